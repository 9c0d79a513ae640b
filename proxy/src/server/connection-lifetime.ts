import type { Server as HttpServer, ServerResponse } from 'node:http';
import type { Http2Session } from 'node:http2';
import type { Socket } from 'node:net';
import type { Listener } from '../config/schema.ts';
import { timerMs } from '../timers/timer-ms.ts';

/** The response a connection is writing now, if any (Node's own bookkeeping on HTTP/1.1 sockets). */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/**
 * ClientTrafficPolicy `maxConnectionDuration` and `maxRequestsPerConnection` on one port, read from
 * the live listener at each connection (so a swap changes them without reopening the port):
 * - HTTP/1.1: an old connection that is idle is closed; one with a request in flight answers it with
 *   `Connection: close` (or closes once the answer is out). Requests per connection use Node's
 *   `maxRequestsPerSocket`, which announces the last one with `Connection: close`.
 * - HTTP/2 (HTTPS): the session is closed gracefully (GOAWAY: open streams finish, no new ones).
 * Cleartext h2c sessions are not covered.
 */
export function limitConnectionLifetimes(
  server: HttpServer,
  listenerOf: () => Listener,
  https: boolean,
): void {
  const http1 = (socket: HttpSocket) => {
    const ms = listenerOf().maxConnectionDurationMs;
    // HTTP/2 over TLS is retired through its session (below), never by cutting its socket.
    if (ms === undefined || (socket as Socket & { alpnProtocol?: string | false }).alpnProtocol === 'h2')
      return;
    const timer = setTimeout(() => retire(socket), timerMs(ms));
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
  server.on(https ? 'secureConnection' : 'connection', http1 as (socket: Socket) => void);
  if (!https) return;
  server.on('session', (session: Http2Session) => {
    const { maxConnectionDurationMs: ms, maxRequestsPerConnection: max } = listenerOf();
    if (ms !== undefined) {
      const timer = setTimeout(() => session.close(), timerMs(ms));
      timer.unref();
      session.once('close', () => clearTimeout(timer));
    }
    if (max !== undefined) {
      let streams = 0;
      session.on('stream', () => {
        if (++streams >= max) session.close();
      });
    }
  });
}

/** Ends an HTTP/1.1 connection at the next point it can be ended without losing an answer. */
function retire(socket: HttpSocket): void {
  const res = socket._httpMessage;
  if (!res) return void socket.destroy();
  if (!res.headersSent) res.shouldKeepAlive = false;
  else res.once('finish', () => socket.destroy());
}

/** Node's per-socket request cap on HTTP/1.1 (0: none). */
export function applyRequestsPerConnection(server: HttpServer, listener: Listener): void {
  server.maxRequestsPerSocket = listener.maxRequestsPerConnection ?? 0;
}
