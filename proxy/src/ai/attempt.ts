import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors as undiciErrors } from 'undici';
import type { ClientEvent } from '../client-api/client-event.ts';
import { MEDIA_ANSWERS } from '../client-api/operations.ts';
import { MovableDeadline } from '../timers/movable-deadline.ts';
import { answerAsStream, responseAsStream } from './answer-as-stream.ts';
import type { CompiledTarget } from './compiled-backend.ts';
import { sanitizedProviderError } from './provider-error.ts';
import { relayProviderHeaders } from './provider-headers.ts';
import type {
  ConvertedResponse,
  ProviderAdapter,
  ProviderContext,
  StreamConverter,
  UpstreamRequest,
} from './providers/adapter.ts';
import { openAIAdapter } from './providers/openai/openai-adapter.ts';
import { SseParser, sseData } from './sse.ts';

export type AttemptOutcome =
  /** Complete non-streamed answer, not yet sent: the caller decides what to do with it. */
  | { kind: 'json'; converted: ConvertedResponse; text: string }
  /** A stream was sent to the client; `converter` holds usage, or nothing if the stream was cut. */
  | {
      kind: 'streamed';
      converter: StreamConverter;
      interrupted: boolean;
      /** The stream was interrupted because the client went away, not the target. */
      clientGone: boolean;
      firstTokenAt: number;
    }
  /**
   * Worth another target: connect error, timeout before any byte, 429, 5xx, or the provider refusing
   * the gateway's own credentials (401/403). `error` is the detail for logs; `reason` is safe to show.
   */
  | {
      kind: 'retryable';
      error: string;
      reason: string;
      status?: number;
      retryAfterMs?: number;
      timedOut: boolean;
      credentialsRejected?: boolean;
    }
  /** Audio or a text transcript relayed as bytes (speech, transcripts not in JSON): no usage in it. */
  | { kind: 'media'; interrupted: boolean }
  /** The provider refused the request itself (4xx): relayed to the client in OpenAI's shape. */
  | { kind: 'client_error'; status: number; body: Record<string, unknown> }
  /** The client went away first: not the target's fault, and nothing more to do. */
  | { kind: 'client_gone' };

export interface AttemptInput {
  target: CompiledTarget;
  ctx: ProviderContext;
  /** The request as this target's provider takes it (built when the targets were planned). */
  upstream: UpstreamRequest;
  response: ServerResponse;
  /** Absolute time (performance.now()) by which the whole exchange must finish. */
  deadline: number;
  firstTokenMs: number | undefined;
  streamIdleMs: number | undefined;
  /** Writes the client's response headers (an event stream, or the media type given); called once. */
  commitStream: (contentType?: string) => void;
  /** Rewrites each OpenAI stream payload before it is sent (e.g. response masking). */
  transformPayload: ((event: ClientEvent) => ClientEvent[]) | undefined;
}

const RETRYABLE_STATUS = (s: number) => s === 408 || s === 429 || s >= 500;
/** The provider refused the key Sluice sent: the gateway's problem, never the client's. */
const CREDENTIALS_REFUSED = (s: number) => s === 401 || s === 403;

/**
 * One try against one target. Nothing reaches the client until the attempt has succeeded far enough
 * (a non-streamed body, or the first streamed event): until then a failure is retryable elsewhere.
 */
export async function attempt(input: AttemptInput): Promise<AttemptOutcome> {
  const { target, ctx, response, upstream } = input;
  const abort = new AbortController();
  let timedOut = false;
  // One deadline for the whole attempt, moved rather than re-created: a stream moves it on every chunk.
  let allowedMs = 0;
  const deadline = new MovableDeadline(() => {
    timedOut = true;
    abort.abort(new Error(`no answer within ${Math.round(allowedMs)} ms`));
  });
  const arm = (ms: number) => {
    allowedMs = ms;
    deadline.set(ms);
  };
  const disarm = () => deadline.clear();
  const remaining = () => input.deadline - performance.now();
  // firstToken bounds the wait for the first byte of the answer, streamed or not.
  arm(input.firstTokenMs !== undefined ? Math.min(input.firstTokenMs, remaining()) : remaining());
  let clientGone = false;
  const onClientGone = () => {
    clientGone = true;
    abort.abort(new Error('client closed the connection'));
  };
  response.once('close', onClientGone);
  // Provider headers copied onto the answer; taken back if this attempt fails over after all.
  let undoHeaders = (): void => {};
  /** What authorising this attempt sent that is secret (a Vertex token): scrubbed from provider errors like the key. */
  let minted: string | undefined;
  try {
    // Within the first-byte budget too: a token endpoint that stalls fails this attempt over in time.
    if (target.adapter.authorize)
      minted = await unlessAborted(target.adapter.authorize(upstream, ctx), abort.signal);
    const res = await target.endpoint.pool.request({
      path: upstream.path,
      method: 'POST',
      headers: upstream.headers,
      body: upstream.body,
      signal: abort.signal,
    });
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      disarm();
      const json = parseJson(text);
      const detail = sanitizedProviderError(target.adapter.error(json, res.statusCode), res.statusCode, [
        ctx.apiKey,
        minted,
      ]);
      if (RETRYABLE_STATUS(res.statusCode) || CREDENTIALS_REFUSED(res.statusCode))
        return {
          kind: 'retryable',
          error: `status ${res.statusCode}: ${detail.error.message}`,
          reason: `the provider answered ${res.statusCode}`,
          status: res.statusCode,
          retryAfterMs: retryAfterMs(res.headers['retry-after']),
          timedOut: false,
          credentialsRejected: CREDENTIALS_REFUSED(res.statusCode),
        };
      return { kind: 'client_error', status: res.statusCode, body: detail };
    }
    undoHeaders = relayProviderHeaders(response, res.headers);
    if (!ctx.stream) {
      // Headers came in time; the body may take what is left of the request deadline.
      arm(remaining());
      const type = String(res.headers['content-type'] ?? '');
      if (MEDIA_ANSWERS.has(ctx.op) && !JSON_TYPE.test(type)) {
        const relayed = await relayMedia(input, res.body, type, () => clientGone);
        disarm();
        return relayed;
      }
      const text = await res.body.text();
      const json = parseJson(text);
      disarm();
      if (json === undefined) {
        undoHeaders();
        return {
          kind: 'retryable',
          error: 'provider answered invalid JSON',
          reason: 'the provider answered invalid JSON',
          timedOut: false,
        };
      }
      return { kind: 'json', converted: target.adapter.response(json, ctx), text };
    }
    // A server that answers JSON although a stream was asked for: its answer, as the stream it
    // would have sent (counted and guarded like any stream), instead of an empty stream retried.
    const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
    const streamed = await relayStream(
      json ? { ...input, target: { ...target, adapter: openAIAdapter } } : input,
      json ? await answerBody(res.body, target.adapter, ctx) : res.body,
      () => clientGone,
      disarm,
      arm,
    );
    if (streamed.kind === 'retryable') undoHeaders();
    return streamed;
  } catch (err) {
    disarm();
    undoHeaders();
    if (clientGone) return { kind: 'client_gone' };
    if (response.headersSent) throw err;
    return { kind: 'retryable', error: describe(err, timedOut), reason: reasonFor(err, timedOut), timedOut };
  } finally {
    response.off('close', onClientGone);
  }
}

const JSON_TYPE = /^application\/(.+\+)?json\b/i;

/**
 * Audio (speech) or a transcript in text, SRT or VTT, relayed as it arrives with the provider's
 * media type: nothing to convert, and an audio stream must not wait for its last byte.
 */
async function relayMedia(
  input: AttemptInput,
  body: Readable,
  contentType: string,
  clientGone: () => boolean,
): Promise<AttemptOutcome> {
  input.commitStream(contentType || 'application/octet-stream');
  try {
    await pipeline(body, input.response);
    return { kind: 'media', interrupted: false };
  } catch {
    if (clientGone()) return { kind: 'client_gone' };
    input.response.destroy();
    return { kind: 'media', interrupted: true };
  }
}

/** `work`, or its signal's reason as soon as it aborts (the work goes on: a token fetch is shared). */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

async function relayStream(
  input: AttemptInput,
  body: Readable,
  clientGone: () => boolean,
  disarm: () => void,
  rearm: (ms: number) => void,
): Promise<AttemptOutcome> {
  const { response } = input;
  const parser = input.target.adapter.streamDecoder?.() ?? new SseParser();
  const converter = input.target.adapter.streamConverter(input.ctx);
  let committed = false;
  let firstTokenAt = 0;
  /** The provider is still sending: the idle limit counts from now again, within the request deadline. */
  const stillSending = () =>
    rearm(Math.min(input.streamIdleMs ?? Number.POSITIVE_INFINITY, input.deadline - performance.now()));
  // Flowing mode with synchronous handling: every byte received before an upstream failure is relayed
  // (an async iterator would drop data still buffered when the upstream connection breaks).
  const onData = (chunk: Buffer) => {
    const converted = parser.push(chunk).flatMap((e) => converter.convert(e));
    const events = input.transformPayload ? converted.flatMap(input.transformPayload) : converted;
    if (events.length === 0) {
      // Even when a guard holds its text back, the provider is sending: that is no idle stream.
      if (committed) stillSending();
      return;
    }
    if (!committed) {
      // The first event arrived in time: from here on the client has this target's answer.
      committed = true;
      firstTokenAt = performance.now();
      input.commitStream();
    }
    if (!response.write(events.map((e) => sseData(e.data, e.event)).join(''))) {
      body.pause();
      response.once('drain', () => body.resume());
    }
    stillSending();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      body.on('data', onData);
      body.once('end', resolve);
      body.once('error', reject);
    });
    disarm();
  } catch (err) {
    disarm();
    if (!committed) throw err;
  }
  if (!committed)
    return {
      kind: 'retryable',
      error: 'stream ended before any event',
      reason: 'the provider ended the stream before any event',
      timedOut: false,
    };
  const interrupted = !converter.complete();
  if (interrupted && !response.destroyed) {
    response.write(
      sseData(
        JSON.stringify({
          error: {
            message: 'The provider ended the stream before it was complete.',
            type: 'server_error',
            code: 'upstream_stream_interrupted',
          },
        }),
      ),
    );
  }
  response.end();
  return { kind: 'streamed', converter, interrupted, clientGone: clientGone(), firstTokenAt };
}

/** A JSON answer to a streamed request, re-read as OpenAI's event stream of it (see answerAsStream). */
async function answerBody(body: Readable, adapter: ProviderAdapter, ctx: ProviderContext): Promise<Readable> {
  const json = parseJson(await (body as unknown as { text(): Promise<string> }).text());
  // Not JSON after all: an empty stream, which fails the attempt like any stream without events.
  let sse = '';
  // A Response is relayed as it came (its stream converter makes its id routable); others are converted first.
  if (typeof json === 'object' && json !== null && ctx.op === 'responses')
    sse = responseAsStream(json as Record<string, unknown>);
  else if (json !== undefined) sse = answerAsStream(adapter.response(json, ctx).body, ctx.op);
  return Readable.from([Buffer.from(sse)]);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** What went wrong, in words safe for a client: no addresses, no library error names. */
function reasonFor(err: unknown, timedOut: boolean): string {
  if (timedOut) return 'no answer in time';
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE')
    return 'connection closed by the provider';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'provider host not found';
  return 'connection failed';
}

/** The whole story, for logs. */
function describe(err: unknown, timedOut: boolean): string {
  if (timedOut) return 'timed out before the first byte';
  if (err instanceof undiciErrors.UndiciError) return `${err.code}: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? err);
}
