/**
 * The one catalog of errors the proxy answers with. Every error body has OpenAI's shape
 * (`{"error":{"message","type","code"}}`) so SDK clients and curl users see the same thing.
 */
export interface CatalogEntry {
  status: number;
  type: string;
  message: string;
}

export const errorCatalog = {
  bad_request: { status: 400, type: 'invalid_request_error', message: 'Malformed HTTP request.' },
  route_not_found: { status: 404, type: 'invalid_request_error', message: 'No route matches this request.' },
  request_header_fields_too_large: {
    status: 431,
    type: 'invalid_request_error',
    message: 'Request header fields are too large.',
  },
  backend_invalid: {
    status: 500,
    type: 'server_error',
    message: 'The route has no valid backend for this request.',
  },
  upstream_unreachable: { status: 502, type: 'server_error', message: 'The upstream could not be reached.' },
  no_healthy_upstream: {
    status: 503,
    type: 'server_error',
    message: 'The backend has no available endpoints.',
  },
  upstream_timeout: { status: 504, type: 'server_error', message: 'The upstream did not answer in time.' },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof errorCatalog;

export function errorBody(code: ErrorCode, message?: string): string {
  const entry = errorCatalog[code];
  return JSON.stringify({ error: { message: message ?? entry.message, type: entry.type, code } });
}

/** Pre-rendered bodies: the hot path sends a constant string instead of serializing per request. */
export const renderedErrors: Record<ErrorCode, string> = Object.fromEntries(
  Object.keys(errorCatalog).map((code) => [code, errorBody(code as ErrorCode)]),
) as Record<ErrorCode, string>;
