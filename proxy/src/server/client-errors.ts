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
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
