/** How a fake provider misbehaves; set per server (mutable at run time) or per request. */
export interface FakeBehavior {
  /** Answer every request with this HTTP status and the provider's error shape. */
  status?: number;
  /** With a 429/503 status: the Retry-After header, in seconds. */
  retryAfterSeconds?: number;
  /** Delay before response headers. */
  headersDelayMs?: number;
  /** Streams: delay between the headers and the first chunk. */
  ttftMs?: number;
  /** Streams: delay between chunks (one chunk per output token). */
  tokenDelayMs?: number;
  /** Streams: cut the connection after this many content chunks. */
  dropAfterChunks?: number;
  /** Never answer (the connection stays open until the client gives up). */
  hang?: boolean;
  /** Output tokens per reply (each one word). */
  replyTokens?: number;
  /** Chat: reply with the words of the last message instead (to test what the client gets back). */
  echo?: boolean;
  /** Prompt tokens reported as cached (OpenAI cached_tokens, Anthropic cache_read_input_tokens). */
  cachedTokens?: number;
  /** Prompt tokens reported as written to the cache (Anthropic cache_creation_input_tokens, Bedrock cacheWriteInputTokens). */
  cacheWriteTokens?: number;
  /** Reasoning tokens reported in completion_tokens_details (OpenAI shape only). */
  reasoningTokens?: number;
  /** Non-streamed answers without a `usage` object (some OpenAI-compatible servers). */
  omitUsage?: boolean;
  /** Chat: answer JSON even when the request asks for a stream (servers that ignore `stream`). */
  ignoreStream?: boolean;
  /** A broken or hostile provider: see FakeFault. */
  fault?: FakeFault;
}

/**
 * How a provider breaks, for failover and hardening tests:
 * - `hang-mid-body`: headers and part of the body, then silence;
 * - `reset-mid-body`: headers and part of the body, then a TCP reset;
 * - `drip`: the whole answer one byte every 50 ms;
 * - `garbage`: 200 with bytes that are not JSON or SSE;
 * - `wrong-content-type`: a JSON answer labelled text/html;
 * - `huge-headers`: 64 KiB of response headers;
 * - `echo-key`: 401 whose message repeats the credential it was sent, and its own address.
 */
export type FakeFault =
  | 'hang-mid-body'
  | 'reset-mid-body'
  | 'drip'
  | 'garbage'
  | 'wrong-content-type'
  | 'huge-headers'
  | 'echo-key';

/** A request may override the server's behavior with this header holding JSON. */
export const BEHAVIOR_HEADER = 'x-fake-behavior';

export function mergeBehavior(base: FakeBehavior, header: string | string[] | undefined): FakeBehavior {
  if (typeof header !== 'string') return base;
  return { ...base, ...(JSON.parse(header) as FakeBehavior) };
}
