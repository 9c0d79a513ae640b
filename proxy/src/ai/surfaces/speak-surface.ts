import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { SseParser } from '../sse.ts';
import type { Json } from './translation.ts';

/** How one client API renders what the chat pipeline answers. */
export interface SurfaceFormat {
  answer(chat: Json): Json;
  error(status: number, body: Json): Json;
  /** A converter for one response's stream: the SSE text for each `data:` payload, and the end. */
  stream(): { data(payload: string): string; finish(): string };
}

/**
 * Makes one response speak another client API (Anthropic Messages, OpenAI Responses): everything the
 * pipeline writes in Chat Completions form (catalog errors, JSON answers, SSE streams) reaches the
 * client in that API's form. The pipeline stays the one pipeline; only this response's writeHead,
 * write and end are wrapped.
 *
 * JSON bodies are held until `end` (they are small and converted whole, with a new content-length);
 * streams are converted event by event as they arrive, so time to first token is unchanged.
 */
export function speakSurface(
  res: ServerResponse,
  format: SurfaceFormat,
): { sendNative(status: number, body: object): void; passThrough(): void } {
  const own = { writeHead: res.writeHead, write: res.write, end: res.end };
  const writeHead = res.writeHead.bind(res) as (
    status: number,
    headers?: OutgoingHttpHeaders,
  ) => ServerResponse;
  const write = res.write.bind(res) as (chunk: string | Uint8Array) => boolean;
  const end = res.end.bind(res) as (chunk?: string | Uint8Array) => ServerResponse;
  let mode: 'json' | 'stream' | undefined;
  let status = 200;
  let headers: OutgoingHttpHeaders = {};
  const held: Buffer[] = [];
  const parser = new SseParser();
  const converter = format.stream();

  const convertEvents = (chunk: string | Uint8Array): string =>
    parser
      .push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      .map((e) => converter.data(e.data))
      .join('');

  res.writeHead = ((code: number, ...rest: unknown[]) => {
    status = code;
    const given = rest.find((r) => typeof r === 'object' && r !== null) as OutgoingHttpHeaders | undefined;
    headers = { ...given };
    const type = String(headers['content-type'] ?? res.getHeader('content-type') ?? '');
    mode = type.startsWith('text/event-stream') ? 'stream' : 'json';
    if (mode === 'stream') writeHead(code, headers);
    return res;
  }) as typeof res.writeHead;

  res.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (mode === 'stream') return write(convertEvents(chunk));
    held.push(Buffer.from(chunk));
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof res.write;

  res.end = ((chunk?: unknown) => {
    const data = typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : undefined;
    if (mode === 'stream') return end((data ? convertEvents(data) : '') + converter.finish());
    if (data) held.push(Buffer.from(data));
    const text = Buffer.concat(held).toString('utf8');
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      parsed = undefined;
    }
    const code = mode ? status : res.statusCode;
    const converted =
      parsed === undefined
        ? text
        : JSON.stringify(code >= 400 ? format.error(code, parsed) : format.answer(parsed));
    const { 'content-length': _, ...kept } = headers;
    writeHead(code, {
      ...kept,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(converted),
    });
    return end(converted);
  }) as typeof res.end;

  return {
    /** An answer already in the surface's shape (Anthropic count_tokens), written as it is. */
    /** The pipeline will answer in this API itself (a passed-through request): stop converting. */
    passThrough() {
      Object.assign(res, own);
    },
    sendNative(code, body) {
      const text = JSON.stringify(body);
      writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      end(text);
    },
  };
}
