import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors/catalog.ts';
import { rawErrorResponse } from '../errors/render.ts';

/**
 * Answers requests Node's HTTP parser rejects before any handler runs (malformed request lines,
 * oversized headers) with the catalog's status and body, then closes the connection.
 */
export function handleClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? 'request_header_fields_too_large'
      : // The request (or its head) did not arrive within the listener's request-received timeout.
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request_timeout'
        : 'bad_request';
  socket.end(rawErrorResponse(code));
}

/** How long a refused client may go on sending before its connection is cut. */
const LINGER_MS = 1000;

/**
 * Answers on the raw socket and closes it without reading the rest of the request: the answer and
 * a FIN go out at once; what the client still sends is discarded for at most a second (closing with
 * unread bytes would reset the connection, and the client could lose the answer), then the socket is
 * destroyed.
 */
export function refuseAndClose(req: IncomingMessage, code: ErrorCode): void {
  const socket = req.socket;
  socket.end(rawErrorResponse(code));
  req.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** CONNECT asks for a raw tunnel, which no route describes: refused with 405. */
export function refuseConnect(_req: IncomingMessage, socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.end(rawErrorResponse('method_not_allowed'));
}
