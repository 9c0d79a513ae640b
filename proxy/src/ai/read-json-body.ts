import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { brotliDecompress, gunzip, inflate, zstdDecompress } from 'node:zlib';
import type { ErrorCode } from '../errors/catalog.ts';
import { type FormPart, parseForm } from './form-body.ts';

export type JsonBody =
  | {
      ok: true;
      raw: Buffer;
      value: Record<string, unknown>;
      /**
       * Every parser reads `raw` as `value`: valid UTF-8 and no key given twice. Only then may the bytes
       * go upstream as they came; otherwise a provider whose parser keeps the first of two `content`
       * keys (or decodes bad bytes its own way) would see a prompt other than the one guarded and billed.
       */
      unambiguous: boolean;
      /** A multipart request: its parts (`value` holds its text fields). */
      form?: FormPart[];
    }
  | { ok: false; error: ErrorCode; message?: string }
  /** The client went away before its body was complete: nobody to answer. */
  | { ok: false; gone: true };

/**
 * Deepest nesting of arrays and objects accepted in an AI request body. Real requests (tool
 * schemas included) stay far below; much deeper bodies exist only to exhaust a parser's or a
 * serialiser's stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Bytes of request bodies held in memory by all requests of this process at once. A body is charged
 * as it arrives and given back when its request ends; past the cap a request is refused (503) rather
 * than let concurrent large bodies exhaust memory.
 */
export class BodyBudget {
  #held = 0;
  readonly #cap: number;

  constructor(cap: number) {
    this.#cap = cap;
  }

  get held(): number {
    return this.#held;
  }

  take(bytes: number): boolean {
    if (this.#held + bytes > this.#cap) return false;
    this.#held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#held -= bytes;
  }
}

/**
 * Reads an OpenAI-style JSON request body: refuses more than `limit` bytes (413, without reading
 * further), more than the process-wide body budget (503), a non-JSON content type, invalid JSON, a
 * body that is not an object, or one nested deeper than MAX_JSON_DEPTH (400). Bytes taken from
 * `budget` are given back when the response closes (or at once when the body is refused).
 */
export function readJsonBody(
  req: IncomingMessage,
  res: { once(event: 'close', listener: () => void): unknown },
  limit: number,
  budget: BodyBudget,
  /** The operation takes a multipart form (audio, an image) instead of JSON. */
  form = false,
): Promise<JsonBody> {
  const type = req.headers['content-type'];
  if (
    form
      ? !/^multipart\/form-data\b/i.test(type ?? '')
      : type !== undefined && !/^application\/(.+\+)?json\b/i.test(type)
  )
    return Promise.resolve({ ok: false, error: 'invalid_content_type' });
  const parse = form ? (raw: Buffer) => parseFormBody(raw, type ?? '') : parseJson;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve({ ok: false, error: 'request_too_large' });
  const coding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const decode = DECODERS[coding];
  if (decode === undefined && coding !== 'identity')
    return Promise.resolve({ ok: false, error: 'unsupported_content_encoding' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (result: JsonBody) => {
      // Once only: a client may leave while a compressed body is still being inflated.
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      // Refused bodies are not read on: the caller answers and closes the connection.
      if (!result.ok) req.pause();
      if (!result.ok) budget.give(size);
      else res.once('close', () => budget.give(size));
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) return finish({ ok: false, error: 'request_too_large' });
      if (!budget.take(chunk.length)) return finish({ ok: false, error: 'server_busy' });
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks, size);
      if (!decode) return settle(parse(body));
      // The body is whole: the request's 'close' that follows is not a client leaving.
      req.off('close', onClose);
      // Compressed bodies are inflated off the event loop, never past the limit (a zip bomb ends at
      // `limit` bytes), and what they grow to is charged to the budget too.
      decode(body, { maxOutputLength: limit }, (err, plain) => {
        if (settled) return;
        if (err) {
          const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
          return finish(tooLarge ? { ok: false, error: 'request_too_large' } : BAD_ENCODING);
        }
        if (!budget.take(plain.length)) return finish({ ok: false, error: 'server_busy' });
        size += plain.length;
        settle(parse(plain));
      });
    };
    // JSON is parsed in the same turn (the hot path); a form is read asynchronously.
    const settle = (result: JsonBody | Promise<JsonBody>) => {
      if (!(result instanceof Promise)) return finish(result);
      // The whole body is in: the request's own close (which follows its end) is no client gone.
      req.off('close', onClose);
      void result.then(finish);
    };
    const onClose = () => finish({ ok: false, gone: true });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}

type Decoder = (
  input: Buffer,
  options: { maxOutputLength: number },
  done: (err: Error | null, result: Buffer) => void,
) => void;

/** Content codings a client may compress a request body with (RFC 9110 §8.4.1). */
const DECODERS: Record<string, Decoder | undefined> = {
  gzip: gunzip,
  'x-gzip': gunzip,
  deflate: inflate,
  br: brotliDecompress,
  zstd: zstdDecompress,
};

const BAD_ENCODING: JsonBody = {
  ok: false,
  error: 'invalid_request',
  message: 'The request body could not be decompressed as its Content-Encoding says.',
};

async function parseFormBody(raw: Buffer, type: string): Promise<JsonBody> {
  const form = await parseForm(raw, type);
  if (!form)
    return {
      ok: false,
      error: 'invalid_request',
      message: 'The request body is not a valid multipart form.',
    };
  return { ok: true, raw, value: form.fields, unambiguous: true, form: form.parts };
}

function parseJson(raw: Buffer): JsonBody {
  const keys = keysIfNotDeeperThan(raw, MAX_JSON_DEPTH);
  if (keys === undefined)
    return {
      ok: false,
      error: 'invalid_request',
      message: `The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`,
    };
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return { ok: false, error: 'invalid_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, error: 'invalid_request', message: 'The request body must be a JSON object.' };
  const object = value as Record<string, unknown>;
  return { ok: true, raw, value: object, unambiguous: keys === keyCount(object) && isUtf8(raw) };
}

/**
 * One pass over the bytes, outside strings: brackets counted for the depth, colons for the keys
 * written (undefined past `max` levels). Cheap next to JSON.parse itself.
 */
function keysIfNotDeeperThan(raw: Buffer, max: number): number | undefined {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a /* : */) keys++;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) return undefined;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return keys;
}

/** Keys of every object in a parsed value: fewer than the colons written means a key came twice. */
function keyCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let n = 0;
  if (Array.isArray(value)) for (const item of value) n += keyCount(item);
  else
    for (const key in value) {
      n++;
      n += keyCount((value as Record<string, unknown>)[key]);
    }
  return n;
}
