import type { ClientEvent } from '../../client-api/client-event.ts';
import { openAIUsageOf, type TokenUsage } from '../../usage/usage.ts';
import { UnsupportedParameterError } from './adapter.ts';

/**
 * Chat parameters every translating adapter carries over (or may ignore: they do not change the
 * answer, like `user`, `store` and `metadata`).
 */
export const TRANSLATED_PARAMETERS: readonly string[] = [
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'temperature',
  'top_p',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'user',
  'response_format',
  'parallel_tool_calls',
  'metadata',
  'store',
  'service_tier',
];

/**
 * Checks an OpenAI chat request against what a translating adapter can carry: a parameter it cannot
 * honour, or one it does not know, is a 400 naming it, never silently dropped. `n: 1` and
 * `logprobs: false` ask for nothing and pass.
 */
export function refuseUntranslatable(
  body: Record<string, unknown>,
  unsupported: readonly string[],
  handled: ReadonlySet<string>,
  provider: string,
): void {
  for (const key of Object.keys(body)) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if ((key === 'n' && value === 1) || (key === 'logprobs' && value === false)) continue;
    if (unsupported.includes(key) || !handled.has(key)) throw new UnsupportedParameterError(key, provider);
  }
}

/** An OpenAI chunk a stream converter built: its text and the object, handed on together. */
export function built(chunk: Record<string, unknown>): ClientEvent {
  return { data: JSON.stringify(chunk), chunk };
}

/**
 * A translated conversation's turns in order, consecutive turns of one role merged into one:
 * Anthropic, Gemini and Bedrock want roles to alternate, and several tool results answering one
 * turn's calls go back together.
 */
export class Turns<Role extends string, Part> {
  readonly list: { role: Role; parts: Part[] }[] = [];

  add(role: Role, parts: Part[]): void {
    const last = this.list[this.list.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else this.list.push({ role, parts });
  }
}

/** Who a translated stream's chunks say they are: the same on every chunk. */
export interface ChunkHead {
  id: string;
  created: number;
  model: string | undefined;
}

/** A chunk of a translated stream carrying one choice's delta (and its finish reason, at the end). */
export function choiceChunk(
  head: ChunkHead,
  delta: Record<string, unknown>,
  finish: string | null = null,
  index = 0,
): ClientEvent {
  return built({
    id: head.id,
    object: 'chat.completion.chunk',
    created: head.created,
    model: head.model,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
  });
}

/** A choice of a translated answer: its content is null when the turn only called tools, as OpenAI's is. */
export function assistantChoice(text: string, toolCalls: unknown[], finish: string | null, index = 0) {
  return {
    index,
    message: {
      role: 'assistant',
      content: text === '' && toolCalls.length > 0 ? null : text,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    },
    logprobs: null,
    finish_reason: finish,
  };
}

/** How a translated stream ends for the client: the usage chunk when it asked for one, then [DONE]. */
export function streamEnd(
  wantsUsage: boolean,
  head: { id: string; created: number; model: string | undefined },
  usage: TokenUsage | undefined,
): ClientEvent[] {
  const out: ClientEvent[] = [];
  if (wantsUsage && usage)
    out.push(
      built({
        id: head.id,
        object: 'chat.completion.chunk',
        created: head.created,
        model: head.model,
        choices: [],
        usage: openAIUsageOf(usage),
      }),
    );
  out.push({ data: '[DONE]' });
  return out;
}

/** A content part of an OpenAI chat message. */
export type ChatPart = { type: string; text?: string; image_url?: { url: string } | string };

/** An OpenAI chat message as translating adapters read it. */
export type ChatMessage = {
  role: string;
  content?: string | ChatPart[] | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
};

/** An `image_url` part's URL (OpenAI takes both the string and the object form). */
export function imageUrlOf(part: ChatPart): string {
  return typeof part.image_url === 'string' ? part.image_url : (part.image_url?.url ?? '');
}

/** A `data:` URL's media type and base64 bytes; undefined for a web URL. */
export function dataUrl(url: string): { mediaType: string; base64: string } | undefined {
  const data = /^data:([^;]+);base64,(.*)$/s.exec(url);
  return data ? { mediaType: data[1]!, base64: data[2]! } : undefined;
}

/** The text of a message's content (parts joined, non-text parts left out). */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((p) => p.text ?? '').join('');
}

/** A tool call's JSON arguments as a value; arguments that are not JSON are a 400. */
export function parseArguments(args: string, provider: string): unknown {
  try {
    return JSON.parse(args || '{}');
  } catch {
    throw new UnsupportedParameterError('tool_calls[].function.arguments (not JSON)', provider);
  }
}
