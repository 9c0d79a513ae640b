import { Readable } from 'node:stream';

/**
 * Bodies the gateway holds in memory so it can send them more than once (retries, mirrors) are
 * capped per request: ClientTrafficPolicy `connection.bufferLimit`, 1 MiB by default (Envoy's per
 * request buffer for retries is the same size).
 */
export const DEFAULT_BUFFER_LIMIT = 1 << 20;

/**
 * Reads a request body into memory when it fits in `limit` bytes. A larger one (declared or found
 * while reading — chunked bodies declare nothing) is not refused: what was read is put in front of
 * the rest, as a stream that yields the body's bytes exactly once, so the request still goes through
 * (without replays). A client that never finishes holds at most `limit` bytes here.
 */
export async function holdBody(
  stream: AsyncIterable<Buffer> & { headers: Record<string, unknown> },
  limit: number,
): Promise<Buffer | Readable> {
  const declared = Number(stream.headers['content-length']);
  if (declared > limit) return stream as unknown as Readable;
  const chunks: Buffer[] = [];
  let held = 0;
  const iterator = stream[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, held);
    chunks.push(next.value);
    held += next.value.length;
    if (held > limit) return Readable.from(replayThenRest(chunks, iterator), { objectMode: false });
  }
}

async function* replayThenRest(read: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* read;
  read.length = 0;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
