import type { Server } from 'node:http';
import {
  createServer as createH2cServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { Socket } from 'node:net';

/**
 * HTTP/2 connections that carry no frames for the idle timeout are closed gracefully: GOAWAY, open
 * streams finish, no new ones start. Without it an idle client keeps its session (and memory) forever.
 * The timeout is read from the live listener as each session starts.
 */
export function closeIdleSessions(
  server: { on(event: 'session', listener: (session: Http2Session) => void): unknown },
  idleTimeoutOf: () => number,
): void {
  server.on('session', (session) => {
    const ms = idleTimeoutOf();
    if (ms > 0) session.setTimeout(ms, () => session.close());
  });
}

/** What an HTTP/2 client with prior knowledge sends first (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Cleartext HTTP/2 (h2c, prior knowledge) beside HTTP/1.1 on the same port: each new connection's
 * first bytes are compared with the HTTP/2 preface; matching connections go to an HTTP/2 server,
 * everything else to the HTTP/1.1 server as before, with the bytes read so far put back. Both call
 * the same request handler.
 */
export function serveH2cBeside(
  http1: Server,
  handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void,
  idleTimeoutOf: () => number,
): void {
  const h2c = createH2cServer({}, handler);
  closeIdleSessions(h2c, idleTimeoutOf);
  // Closing the port ends HTTP/2 sessions too (HTTP/1.1 connections are the HTTP/1 server's own).
  const sessions = new Set<{ close(): void }>();
  h2c.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  // Connections that have not sent their first bytes yet belong to neither server: closing the port
  // must end them itself, or it would wait for them forever.
  const undecided = new Set<Socket>();
  const close = http1.close.bind(http1);
  http1.close = ((cb?: (err?: Error) => void) => {
    for (const s of sessions) s.close();
    for (const s of undecided) s.destroy();
    return close(cb);
  }) as Server['close'];
  const http1Listeners = http1.listeners('connection') as ((socket: Socket) => void)[];
  http1.removeAllListeners('connection');
  http1.on('connection', (socket: Socket) => {
    let seen = Buffer.alloc(0);
    undecided.add(socket);
    socket.once('close', () => undecided.delete(socket));
    // Until a server owns the socket nobody else listens for its errors: a reset before the first
    // bytes would otherwise be an unhandled 'error' event and end the process.
    const onError = () => socket.destroy();
    socket.on('error', onError);
    // A connection that says nothing for a minute is dropped (HTTP/1.1's own timeouts start later).
    socket.setTimeout(60_000, () => socket.destroy());
    const decide = (toH2: boolean) => {
      undecided.delete(socket);
      socket.setTimeout(0);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      socket.unshift(seen);
      // HTTP/2 reads what is already buffered when its session starts; HTTP/1.1 needs the stream flowing.
      if (toH2) h2c.emit('connection', socket);
      else {
        for (const l of http1Listeners) l.call(http1, socket);
        socket.resume();
      }
    };
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      if (!seen.subarray(0, n).equals(PREFACE.subarray(0, n))) return decide(false);
      if (seen.length >= PREFACE.length) decide(true);
    };
    socket.on('data', onData);
  });
}
