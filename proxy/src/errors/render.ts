import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { type ErrorCode, errorBody, errorCatalog, grpcStatusFor, renderedErrors } from './catalog.ts';

/**
 * The three ways a catalog error reaches a client, one per protocol: an HTTP response with the
 * OpenAI-shaped JSON body (HTTP/1.1 and HTTP/2, SDKs and curl alike), the same bytes written on a raw
 * socket that has no response object (parser errors, upgrades), and a gRPC status for gRPC calls.
 */
export interface ErrorDetail {
  message?: string;
  param?: string;
  /** A status other than the catalog's (a PromptGuard's configured rejection status). */
  status?: number;
  headers?: Record<string, string>;
}

export function writeError(
  res: ServerResponse | Http2ServerResponse,
  code: ErrorCode,
  detail: ErrorDetail = {},
): void {
  // Too late for an answer once the status line is out: cutting the connection is the only signal.
  if (res.headersSent) return void res.destroy();
  const body =
    detail.message === undefined && detail.param === undefined
      ? renderedErrors[code]
      : errorBody(code, detail.message, detail.param);
  // A HEAD answer has no body, so it carries no JSON content type: clients (the Gateway API
  // conformance suite among them) parse a body whenever one is announced as JSON.
  const isHead = (res as ServerResponse).req?.method === 'HEAD';
  (res as ServerResponse)
    .writeHead(detail.status ?? errorCatalog[code].status, {
      ...detail.headers,
      ...(isHead ? {} : { 'content-type': 'application/json' }),
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}

/** A whole HTTP/1.1 error response as bytes, ending the connection. */
export function rawErrorResponse(code: ErrorCode): string {
  const { status } = errorCatalog[code];
  const body = renderedErrors[code];
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Is this request a gRPC call over HTTP/2 (which must be answered with a gRPC status)? */
export function isGrpcCall(req: IncomingMessage | Http2ServerRequest): boolean {
  const type = req.headers['content-type'];
  return req.httpVersionMajor === 2 && typeof type === 'string' && type.startsWith('application/grpc');
}

/**
 * A gRPC error as gRPC clients expect it: a "trailers-only" response, one HEADERS frame with HTTP 200,
 * grpc-status and grpc-message that also ends the stream.
 */
export function writeGrpcError(res: Http2ServerResponse, code: ErrorCode, grpcStatus?: number): void {
  if (res.stream.destroyed || res.stream.headersSent) return;
  res.stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(grpcStatus ?? grpcStatusFor(code)),
      'grpc-message': encodeURIComponent(errorCatalog[code].message),
    },
    { endStream: true },
  );
}
