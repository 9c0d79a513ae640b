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

type GeminiPart = Record<string, unknown>;

/** OpenAI parameters with no Gemini equivalent: refused with a clear 400, never dropped silently. */
const UNSUPPORTED = ['logprobs', 'top_logprobs', 'logit_bias', 'audio', 'modalities', 'prediction'];
/** Parameters translated below or harmless to ignore (they do not change the answer). */
const HANDLED = new Set([...TRANSLATED_PARAMETERS, 'n', 'seed', 'presence_penalty', 'frequency_penalty']);

/**
 * OpenAI chat request → Gemini `generateContent` request (Google AI and Vertex AI share the schema):
 * system and developer messages become `systemInstruction`, assistant turns `model` turns, tool calls
 * `functionCall` parts and tool results `functionResponse` parts named after the call they answer.
 */
export function toGeminiRequest(
  body: Record<string, unknown>,
  _ctx: ProviderContext,
): Record<string, unknown> {
  refuseUntranslatable(body, UNSUPPORTED, HANDLED, 'Gemini');
  const system: string[] = [];
  const turns = new Turns<'user' | 'model', GeminiPart>();
  const callNames = new Map<string, string>();
  for (const m of (body.messages ?? []) as ChatMessage[]) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'user':
        turns.add('user', partsOf(m.content));
        break;
      case 'assistant': {
        const parts = m.content ? partsOf(m.content) : [];
        for (const call of m.tool_calls ?? []) {
          callNames.set(call.id, call.function.name);
          parts.push({
            functionCall: {
              name: call.function.name,
              args: parseArguments(call.function.arguments, 'Gemini'),
            },
          });
        }
        turns.add('model', parts);
        break;
      }
      case 'tool': {
        const name = callNames.get(m.tool_call_id ?? '');
        if (!name)
          throw new UnsupportedParameterError('messages[].tool_call_id (no earlier call has it)', 'Gemini');
        turns.add('user', [{ functionResponse: { name, response: toolResponse(textOf(m.content)) } }]);
        break;
      }
      default:
        throw new UnsupportedParameterError(`messages[].role=${m.role}`, 'Gemini');
    }
  }
  const out: Record<string, unknown> = { contents: turns.list };
  if (system.length > 0) out.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  const config = generationConfig(body);
  if (Object.keys(config).length > 0) out.generationConfig = config;
  const tools = body.tools as
    | { type: string; function: { name: string; description?: string; parameters?: unknown } }[]
    | undefined;
  if (tools?.length)
    out.tools = [
      {
        functionDeclarations: tools.map((t) => ({
          name: t.function.name,
          ...(t.function.description ? { description: t.function.description } : {}),
          ...(t.function.parameters ? { parameters: t.function.parameters } : {}),
        })),
      },
    ];
  if (body.tool_choice !== undefined && body.tool_choice !== null)
    out.toolConfig = { functionCallingConfig: toolChoice(body.tool_choice) };
  return out;
}

function generationConfig(body: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (max !== undefined && max !== null) config.maxOutputTokens = max;
  if (body.stop !== undefined && body.stop !== null)
    config.stopSequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (body.temperature !== undefined && body.temperature !== null) config.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) config.topP = body.top_p;
  if (typeof body.n === 'number' && body.n !== 1) config.candidateCount = body.n;
  if (body.seed !== undefined && body.seed !== null) config.seed = body.seed;
  if (body.presence_penalty !== undefined && body.presence_penalty !== null)
    config.presencePenalty = body.presence_penalty;
  if (body.frequency_penalty !== undefined && body.frequency_penalty !== null)
    config.frequencyPenalty = body.frequency_penalty;
  const format = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    if (format.json_schema?.schema) config.responseJsonSchema = format.json_schema.schema;
  } else if (format?.type !== undefined && format.type !== 'text')
    throw new UnsupportedParameterError('response_format', 'Gemini');
  return config;
}

function toolChoice(choice: unknown): Record<string, unknown> {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'required') return { mode: 'ANY' };
  if (choice === 'none') return { mode: 'NONE' };
  const named = choice as { function?: { name?: string } };
  if (named.function?.name) return { mode: 'ANY', allowedFunctionNames: [named.function.name] };
  throw new UnsupportedParameterError('tool_choice', 'Gemini');
}

/** Gemini wants a tool's result as an object: a JSON object as it is, anything else wrapped. */
function toolResponse(text: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return { result: parsed };
  } catch {
    return { result: text };
  }
}

function partsOf(content: ChatMessage['content']): GeminiPart[] {
  if (typeof content === 'string') return [{ text: content }];
  return (content ?? []).map((p): GeminiPart => {
    if (p.type === 'text') return { text: p.text ?? '' };
    if (p.type === 'image_url') {
      const data = dataUrl(imageUrlOf(p));
      // Gemini takes images inline (or as files it stores): a web URL would need fetching first.
      if (!data) throw new UnsupportedParameterError('image_url (only data: URLs)', 'Gemini');
      return { inlineData: { mimeType: data.mediaType, data: data.base64 } };
    }
    throw new UnsupportedParameterError(`content type ${p.type}`, 'Gemini');
  });
}
