import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server sent before it closed the connection (or before the wait ran out). */
  received: string;
  /** True when the server closed (FIN or RST) within the wait. */
  closed: boolean;
}

/** Opens a TCP connection to 127.0.0.1:port, resolving once it is connected. */
export function openSocket(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * Writes `parts` one after another (a pause between them when `gapMs` is set) and collects what the
 * server sends until it closes the connection or `waitMs` passes. With `reset`, the connection is
 * reset (RST, SO_LINGER 0) right after the last part instead of waiting.
 */
export async function rawExchange(
  port: number,
  parts: (string | Buffer)[],
  options: { waitMs?: number; gapMs?: number; reset?: boolean; halfClose?: boolean } = {},
): Promise<RawExchange> {
  const socket = await openSocket(port);
  let received = '';
  let closed = false;
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
  });
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  for (const [i, part] of parts.entries()) {
    if (i > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
    if (socket.destroyed) break;
    socket.write(part);
  }
  if (options.reset) {
    socket.resetAndDestroy();
    await ended;
    return { received, closed: true };
  }
  if (options.halfClose) socket.end();
  const waitMs = options.waitMs ?? 3000;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ended.then(() => {
      closed = true;
    }),
    new Promise<void>((r) => {
      timer = setTimeout(r, waitMs);
    }),
  ]);
  clearTimeout(timer);
  socket.destroy();
  return { received, closed };
}

/** Status codes of every HTTP/1.1 response head in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

/** The body of the first HTTP/1.1 response in `text`, de-chunked when it is chunked. */
export function firstBody(text: string): string {
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split);
  let rest = text.slice(split + 4);
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    return length ? rest.slice(0, Number(length[1])) : rest;
  }
  let body = '';
  for (;;) {
    const eol = rest.indexOf('\r\n');
    const size = Number.parseInt(rest.slice(0, eol), 16);
    if (!(size > 0)) return body;
    body += rest.slice(eol + 2, eol + 2 + size);
    rest = rest.slice(eol + 2 + size + 2);
  }
}
