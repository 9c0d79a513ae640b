import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../errors/catalog.ts';

export type JsonBody =
  | { ok: true; raw: Buffer; value: Record<string, unknown> }
  | { ok: false; error: ErrorCode };

/**
 * Reads an OpenAI-style JSON request body, refusing more than `limit` bytes (413) without reading
 * further, a non-JSON content type or invalid JSON (400).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(.+\+)?json\b/i.test(type))
    return drain(req, 'invalid_content_type');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return drain(req, 'request_too_large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return drain(req, 'request_too_large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { ok: false, error: 'invalid_json' };
    return { ok: true, raw, value: value as Record<string, unknown> };
  } catch {
    return { ok: false, error: 'invalid_json' };
  }
}

/** Answers early without reading the rest of a refused body; the connection closes after the answer. */
function drain(req: IncomingMessage, error: ErrorCode): JsonBody {
  req.resume();
  return { ok: false, error };
}
