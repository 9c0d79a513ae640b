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
  invalid_json: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request body is not valid JSON.',
  },
  unsupported_operation: {
    status: 400,
    type: 'invalid_request_error',
    message: 'No provider of this AI backend serves this operation.',
  },
  unsupported_content_encoding: {
    status: 415,
    type: 'invalid_request_error',
    message:
      'The request body is encoded in a way Sluice does not read (gzip, deflate, br, zstd and identity are).',
  },
  invalid_content_type: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request body must be JSON (Content-Type: application/json).',
  },
  missing_host: {
    status: 400,
    type: 'invalid_request_error',
    message: 'An HTTP/1.1 request must carry a Host header.',
  },
  conflicting_host: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request names its host more than once.',
  },
  invalid_path: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request path is malformed (a bad percent-encoding, or not absolute).',
  },
  invalid_request: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request body does not have the shape this API expects.',
  },
  response_not_stored: {
    status: 404,
    type: 'invalid_request_error',
    message:
      'No stored response with this id is reachable through this gateway: it was not stored through it, or the target that stored it is gone.',
  },
  missing_model: { status: 400, type: 'invalid_request_error', message: 'The request must name a model.' },
  unsupported_parameter: {
    status: 400,
    type: 'invalid_request_error',
    message: 'A parameter is not supported by the provider serving this model.',
  },
  invalid_api_key: {
    status: 401,
    type: 'invalid_request_error',
    message: 'The API key is not valid for this gateway.',
  },
  invalid_token: { status: 401, type: 'invalid_request_error', message: 'The bearer token is not valid.' },
  missing_api_key: {
    status: 401,
    type: 'invalid_request_error',
    message: 'This route requires a client identity (an API key or trusted identity headers).',
  },
  missing_credentials: {
    status: 401,
    type: 'invalid_request_error',
    message: 'This route requires credentials.',
  },
  invalid_credentials: {
    status: 401,
    type: 'invalid_request_error',
    message: 'The credentials are not valid.',
  },
  forbidden: {
    status: 403,
    type: 'permission_error',
    message: "The request is not allowed by this route's security policy.",
  },
  prompt_rejected: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The request was refused by a prompt guard.',
  },
  route_not_found: { status: 404, type: 'invalid_request_error', message: 'No route matches this request.' },
  model_not_found: {
    status: 404,
    type: 'invalid_request_error',
    message: 'The model does not exist on this gateway or is not routed here.',
  },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    message: 'This method is not served by this gateway.',
  },
  request_timeout: {
    status: 408,
    type: 'invalid_request_error',
    message: 'The request did not arrive in time.',
  },
  misdirected_request: {
    status: 421,
    type: 'invalid_request_error',
    message: 'This connection was made for another host name (TLS SNI); open a new connection for this Host.',
  },
  request_too_large: {
    status: 413,
    type: 'invalid_request_error',
    message: 'The request body is too large.',
  },
  budget_exceeded: {
    status: 429,
    type: 'rate_limit_error',
    message: 'A token or cost budget for this caller is used up; retry after the indicated time.',
  },
  rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    message: "Too many requests for this route's rate limit; retry after the indicated time.",
  },
  rate_limited_upstream: {
    status: 429,
    type: 'rate_limit_error',
    message: 'Every provider for this model is rate limiting; retry after the indicated time.',
  },
  request_header_fields_too_large: {
    status: 431,
    type: 'invalid_request_error',
    message: 'Request header fields are too large.',
  },
  internal_error: {
    status: 500,
    type: 'server_error',
    message: 'The gateway failed while handling this request.',
  },
  security_policy_invalid: {
    status: 500,
    type: 'server_error',
    message: "The route's SecurityPolicy is not valid; requests are refused until it is fixed.",
  },
  backend_invalid: {
    status: 500,
    type: 'server_error',
    message: 'The route has no valid backend for this request.',
  },
  upstream_unreachable: { status: 502, type: 'server_error', message: 'The upstream could not be reached.' },
  upstream_credentials_rejected: {
    status: 502,
    type: 'server_error',
    message: "The provider refused the gateway's credentials for it.",
  },
  no_healthy_upstream: {
    status: 503,
    type: 'server_error',
    message: 'The backend has no available endpoints.',
  },
  upstream_timeout: { status: 504, type: 'server_error', message: 'The upstream did not answer in time.' },
  rate_limiter_unavailable: {
    status: 503,
    type: 'server_error',
    message: 'The budget or rate-limit store is unreachable and this limit fails closed.',
  },
  authorizer_unavailable: {
    status: 503,
    type: 'server_error',
    message: 'The external authorizer gave no verdict.',
  },
  fault_injected: {
    status: 503,
    type: 'server_error',
    message: "Aborted on purpose by the route's fault injection (BackendTrafficPolicy faultInjection).",
  },
  upstream_overloaded: {
    status: 503,
    type: 'server_error',
    message: 'Too many requests are in flight to this backend (its circuit breaker is open); retry shortly.',
  },
  server_busy: {
    status: 503,
    type: 'server_error',
    message: 'The gateway holds too many request bodies at once; retry shortly.',
  },
  providers_unavailable: {
    status: 503,
    type: 'server_error',
    message: 'Every provider for this model failed or is cooling down.',
  },
  upstream_stream_interrupted: {
    status: 502,
    type: 'server_error',
    message: 'The provider ended the stream before it was complete.',
  },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof errorCatalog;

export function errorBody(code: ErrorCode, message?: string, param?: string): string {
  const entry = errorCatalog[code];
  return JSON.stringify({
    error: { message: message ?? entry.message, type: entry.type, code, ...(param ? { param } : {}) },
  });
}

/** Pre-rendered bodies: the hot path sends a constant string instead of serializing per request. */
export const renderedErrors: Record<ErrorCode, string> = Object.fromEntries(
  Object.keys(errorCatalog).map((code) => [code, errorBody(code as ErrorCode)]),
) as Record<ErrorCode, string>;

/**
 * The gRPC status a gRPC client gets for a catalog error, by the HTTP status it would have had,
 * following gRPC's "HTTP to gRPC status code mapping" (404 → UNIMPLEMENTED, 429/502/503/504 →
 * UNAVAILABLE, …); 408, the gateway's own request timeout, is DEADLINE_EXCEEDED.
 */
export function grpcStatusFor(code: ErrorCode): number {
  const status: number = errorCatalog[code].status;
  if (status === 400) return 13;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 12;
  if (status === 408) return 4;
  if (status === 429 || status === 502 || status === 503 || status === 504) return 14;
  return 2;
}
