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

type ContentBlock = Record<string, unknown>;

/** OpenAI parameters with no Converse equivalent: refused with a clear 400, never dropped silently. */
const UNSUPPORTED = [
  'n',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'audio',
  'modalities',
  'prediction',
  'seed',
  'presence_penalty',
  'frequency_penalty',
];
/** Parameters translated below or harmless to ignore (they do not change the answer). */
const HANDLED = new Set(TRANSLATED_PARAMETERS);
/** Image formats Converse takes, by MIME type. */
const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/**
 * OpenAI chat request → Bedrock Converse request: system and developer messages become `system`
 * blocks, tool calls `toolUse` blocks and tool results `toolResult` blocks in a user turn. Converse
 * wants turns to alternate, so consecutive turns of one role (several tool results) are merged.
 */
export function toConverseRequest(
  body: Record<string, unknown>,
  _ctx: ProviderContext,
): Record<string, unknown> {
  refuseUntranslatable(body, UNSUPPORTED, HANDLED, 'Bedrock');
  const system: { text: string }[] = [];
  const turns = new Turns<'user' | 'assistant', ContentBlock>();
  for (const m of (body.messages ?? []) as ChatMessage[]) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push({ text: textOf(m.content) });
        break;
      case 'user':
        turns.add('user', blocksOf(m.content));
        break;
      case 'assistant': {
        // Converse refuses empty text blocks: an assistant turn of tool calls only has none.
        const content = m.content ? blocksOf(m.content).filter((b) => b.text !== '') : [];
        for (const call of m.tool_calls ?? [])
          content.push({
            toolUse: {
              toolUseId: call.id,
              name: call.function.name,
              input: parseArguments(call.function.arguments, 'Bedrock'),
            },
          });
        turns.add('assistant', content);
        break;
      }
      case 'tool':
        turns.add('user', [
          {
            toolResult: {
              toolUseId: m.tool_call_id ?? '',
              content: [toolResultContent(textOf(m.content))],
            },
          },
        ]);
        break;
      default:
        throw new UnsupportedParameterError(`messages[].role=${m.role}`, 'Bedrock');
    }
  }
  const out: Record<string, unknown> = {
    messages: turns.list.map(({ role, parts }) => ({ role, content: parts })),
  };
  if (system.length > 0) out.system = system;
  const inference = inferenceConfig(body);
  if (Object.keys(inference).length > 0) out.inferenceConfig = inference;
  const tools = body.tools as
    | { type: string; function: { name: string; description?: string; parameters?: unknown } }[]
    | undefined;
  if (tools?.length) {
    out.toolConfig = {
      tools: tools.map((t) => ({
        toolSpec: {
          name: t.function.name,
          ...(t.function.description ? { description: t.function.description } : {}),
          inputSchema: { json: t.function.parameters ?? { type: 'object', properties: {} } },
        },
      })),
      ...(body.tool_choice !== undefined && body.tool_choice !== null
        ? { toolChoice: toolChoice(body.tool_choice) }
        : {}),
    };
  } else if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== 'none')
    throw new UnsupportedParameterError('tool_choice (no tools given)', 'Bedrock');
  return out;
}

function inferenceConfig(body: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (max !== undefined && max !== null) config.maxTokens = max;
  if (body.temperature !== undefined && body.temperature !== null) config.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) config.topP = body.top_p;
  if (body.stop !== undefined && body.stop !== null)
    config.stopSequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  const format = body.response_format as { type?: string } | undefined;
  // Converse has no JSON mode: asking for one is a 400, not an answer that may not be JSON.
  if (format?.type !== undefined && format.type !== 'text')
    throw new UnsupportedParameterError('response_format', 'Bedrock');
  return config;
}

function toolChoice(choice: unknown): Record<string, unknown> {
  if (choice === 'auto') return { auto: {} };
  if (choice === 'required') return { any: {} };
  const named = choice as { function?: { name?: string } };
  if (named.function?.name) return { tool: { name: named.function.name } };
  // 'none' with tools: Converse cannot be told not to call the tools it is given.
  throw new UnsupportedParameterError(`tool_choice=${JSON.stringify(choice)}`, 'Bedrock');
}

/** A tool's result: JSON objects as `json` (Converse keeps their structure), anything else as text. */
function toolResultContent(text: string): ContentBlock {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return { json: parsed };
  } catch {
    // Not JSON: text.
  }
  return { text };
}

function blocksOf(content: ChatMessage['content']): ContentBlock[] {
  if (typeof content === 'string') return [{ text: content }];
  return (content ?? []).map((p): ContentBlock => {
    if (p.type === 'text') return { text: p.text ?? '' };
    if (p.type === 'image_url') {
      const data = dataUrl(imageUrlOf(p));
      // Converse takes image bytes (or an S3 location): a web URL would need fetching first.
      if (!data) throw new UnsupportedParameterError('image_url (only data: URLs)', 'Bedrock');
      const format = IMAGE_FORMATS[data.mediaType.toLowerCase()];
      if (!format) throw new UnsupportedParameterError(`image_url (type ${data.mediaType})`, 'Bedrock');
      return { image: { format, source: { bytes: data.base64 } } };
    }
    throw new UnsupportedParameterError(`content type ${p.type}`, 'Bedrock');
  });
}
