/** What the surface translations (ai/surfaces/*) share: refusing a request, and reading chunks. */

export type Json = Record<string, unknown>;

/**
 * `native_responses`: a Responses request chat cannot carry (stored state, built-in tools, item
 * types of its own); not an error: it is passed through to the targets that speak the Responses API.
 */
export type RefusalCode = 'invalid_request' | 'native_responses';

export type Translated =
  | { ok: true; chat: Json }
  | { ok: false; message: string; param: string; code: RefusalCode };

/** A request the translation cannot carry: thrown where it is found, turned into a 400 naming `param`. */
export class Refusal extends Error {
  readonly param: string;
  readonly code: RefusalCode;
  constructor(message: string, param: string, code: RefusalCode = 'invalid_request') {
    super(message);
    this.param = param;
    this.code = code;
  }
}

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Runs a translation, turning its Refusal into the `ok: false` result; any other error is a bug. */
export function translating(translate: (body: Json) => Json, body: Json): Translated {
  try {
    return { ok: true, chat: translate(body) };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, message: err.message, param: err.param, code: err.code };
    throw err;
  }
}

/** One `data:` payload of the pipeline's stream as a chunk; `[DONE]` and non-JSON are not chunks. */
export function parseChunk(payload: string): Json | undefined {
  if (payload === '[DONE]') return undefined;
  try {
    return JSON.parse(payload) as Json;
  } catch {
    return undefined;
  }
}
