import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorCode, errorCatalog, renderedErrors } from '../errors/catalog.ts';

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
    err.code === 'HPE_HEADER_OVERFLOW' ? 'request_header_fields_too_large' : 'bad_request';
  socket.end(rawResponse(code));
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
  socket.end(rawResponse(code));
  req.resume();
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** CONNECT asks for a raw tunnel, which no route describes: refused with 405. */
export function refuseConnect(_req: IncomingMessage, socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.end(rawResponse('method_not_allowed'));
}

export function rawResponse(code: ErrorCode): string {
  const { status } = errorCatalog[code];
  const body = renderedErrors[code];
  return (
    `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
