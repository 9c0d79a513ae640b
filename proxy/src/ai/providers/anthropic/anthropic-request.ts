import { type ProviderContext, UnsupportedParameterError } from '../adapter.ts';
import {
  type ChatMessage,
  dataUrl,
  imageUrlOf,
  parseArguments,
  refuseUntranslatable,
  TRANSLATED_PARAMETERS,
  Turns,
  textOf,
} from '../translated-chat.ts';

type Block = Record<string, unknown>;

/** OpenAI parameters with no Anthropic equivalent: refused with a clear 400, never dropped silently. */
const UNSUPPORTED = [
  'n',
  'logprobs',
  'top_logprobs',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'seed',
  'audio',
  'modalities',
  'prediction',
];
/** Parameters translated below or harmless to ignore (they do not change the answer). */
const HANDLED = new Set([...TRANSLATED_PARAMETERS]);

/** OpenAI chat request → Anthropic Messages request. */
export function toAnthropicRequest(
  body: Record<string, unknown>,
  ctx: ProviderContext,
): Record<string, unknown> {
  refuseUntranslatable(body, UNSUPPORTED, HANDLED, 'Anthropic');
  const format = (body.response_format as { type?: string } | undefined)?.type;
  if (format !== undefined && format !== 'text')
    throw new UnsupportedParameterError('response_format', 'Anthropic');

  const system: string[] = [];
  const turns = new Turns<'user' | 'assistant', Block>();
  for (const m of (body.messages ?? []) as ChatMessage[]) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'user':
        turns.add('user', contentBlocks(m.content));
        break;
      case 'assistant': {
        const blocks = m.content ? contentBlocks(m.content) : [];
        for (const call of m.tool_calls ?? [])
          blocks.push({
            type: 'tool_use',
            id: call.id,
            name: call.function.name,
            input: parseArguments(call.function.arguments, 'Anthropic'),
          });
        turns.add('assistant', blocks);
        break;
      }
      case 'tool':
        turns.add('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
        break;
      default:
        throw new UnsupportedParameterError(`messages[].role=${m.role}`, 'Anthropic');
    }
  }
  const out: Record<string, unknown> = {
    model: ctx.upstreamModel,
    messages: turns.list.map(({ role, parts }) => ({ role, content: parts })),
    max_tokens:
      body.max_completion_tokens ?? body.max_tokens ?? ctx.target.anthropic?.defaultMaxTokens ?? 4096,
  };
  if (system.length > 0) out.system = system.join('\n\n');
  if (body.stop !== undefined && body.stop !== null)
    out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (body.temperature !== undefined) out.temperature = body.temperature;
  if (body.top_p !== undefined) out.top_p = body.top_p;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  if (ctx.stream) out.stream = true;
  const tools = body.tools as
    | { type: string; function: { name: string; description?: string; parameters?: unknown } }[]
    | undefined;
  if (tools?.length)
    out.tools = tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
  if (body.tool_choice !== undefined)
    out.tool_choice = toolChoice(body.tool_choice, body.parallel_tool_calls);
  return out;
}

function toolChoice(choice: unknown, parallel: unknown): Record<string, unknown> {
  const disable = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'auto') return { type: 'auto', ...disable };
  if (choice === 'required') return { type: 'any', ...disable };
  if (choice === 'none') return { type: 'none' };
  const named = choice as { function?: { name?: string } };
  if (named.function?.name) return { type: 'tool', name: named.function.name, ...disable };
  throw new UnsupportedParameterError('tool_choice', 'Anthropic');
}

function contentBlocks(content: ChatMessage['content']): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return (content ?? []).map((p): Block => {
    if (p.type === 'text') return { type: 'text', text: p.text ?? '' };
    if (p.type === 'image_url') return imageBlock(imageUrlOf(p));
    throw new UnsupportedParameterError(`content type ${p.type}`, 'Anthropic');
  });
}

function imageBlock(url: string): Block {
  const data = dataUrl(url);
  if (data)
    return { type: 'image', source: { type: 'base64', media_type: data.mediaType, data: data.base64 } };
  return { type: 'image', source: { type: 'url', url } };
}
