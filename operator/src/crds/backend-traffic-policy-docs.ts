import type { FieldDoc } from './field-doc.ts';

/** The docs of one rate-limit rule, the same under local and global. */
function ruleDocs(base: string): Record<string, FieldDoc> {
  const sel = `${base}.clientSelectors[]`;
  return {
    [`${base}.clientSelectors`]: {
      doc: 'Which requests the rule counts: all selectors must hold. None: every request of the route.',
    },
    [`${sel}.headers`]: { doc: 'Request headers to match (all of them).' },
    [`${sel}.headers[].name`]: { doc: 'Header name (case-insensitive).' },
    [`${sel}.headers[].type`]: {
      doc: 'Exact or RegularExpression (RE2) on the value, or Distinct: every value gets a bucket of its own (per user, per API key).',
      default: 'Exact',
    },
    [`${sel}.headers[].value`]: {
      doc: 'The value (Exact) or pattern (RegularExpression); not with Distinct.',
    },
    [`${sel}.headers[].invert`]: { doc: 'Match requests where the header does not match.', default: false },
    [`${sel}.methods`]: { doc: 'HTTP methods, any of which matches.' },
    [`${sel}.methods[].value`]: { doc: 'A method: GET, POST, …' },
    [`${sel}.methods[].invert`]: { doc: 'Match every other method.', default: false },
    [`${sel}.path`]: { doc: 'The request path.' },
    [`${sel}.path.type`]: { doc: 'Exact, PathPrefix or RegularExpression (RE2).', default: 'PathPrefix' },
    [`${sel}.path.value`]: { doc: 'The path, prefix or pattern.' },
    [`${sel}.path.invert`]: { doc: 'Match paths that do not match.', default: false },
    [`${sel}.sourceCIDR`]: {
      doc: 'The client address (after ClientTrafficPolicy client-IP detection) in a range.',
    },
    [`${sel}.sourceCIDR.type`]: {
      doc: 'Exact: the whole range shares one bucket; Distinct: every address in it gets its own.',
      default: 'Exact',
    },
    [`${sel}.sourceCIDR.value`]: { doc: 'An IPv4 or IPv6 CIDR.' },
    [`${sel}.sourceCIDR.invert`]: { doc: 'Match clients outside the range.', default: false },
    [`${base}.limit`]: { doc: 'How many requests per window.' },
    [`${base}.limit.requests`]: { doc: 'Requests allowed per window (per bucket).' },
    [`${base}.limit.unit`]: {
      doc: 'The window: Second, Minute, Hour or Day. Windows are fixed and aligned to the clock (a limit refills all at once when its window ends).',
    },
    [`${base}.shared`]: {
      doc: 'One bucket for every route the policy applies to; by default each route object counts on its own.',
      default: false,
    },
    [`${base}.shadowMode`]: {
      doc: 'Count and report (metrics) but never refuse, to try a limit on live traffic.',
      default: false,
    },
  };
}

/** Field docs of BackendTrafficPolicy. */
export const BACKEND_TRAFFIC_POLICY_DOCS: Record<string, FieldDoc> = {
  'spec.targetRefs': {
    doc: "Gateways (optionally one listener), HTTPRoutes and GRPCRoutes (optionally one named rule) in the policy's namespace. Per field group the most specific target wins: rule, route, listener, Gateway; between equals the oldest.",
  },
  'spec.targetRefs[].group': { doc: 'gateway.networking.k8s.io.' },
  'spec.targetRefs[].kind': { doc: 'Gateway, HTTPRoute or GRPCRoute.' },
  'spec.targetRefs[].name': { doc: 'Object name.' },
  'spec.targetRefs[].sectionName': { doc: 'A listener of the Gateway, or a named rule of the route.' },
  'spec.targetSelectors': { doc: "Targets chosen by labels, in the policy's namespace." },
  'spec.targetSelectors[].group': { doc: 'gateway.networking.k8s.io.', default: 'gateway.networking.k8s.io' },
  'spec.targetSelectors[].kind': { doc: 'Gateway, HTTPRoute or GRPCRoute.' },
  'spec.targetSelectors[].matchLabels': { doc: 'Labels the target must carry (all of them).' },
  'spec.rateLimit': {
    doc: 'Request rate limits: refused requests get 429 `rate_limited` with Retry-After; answers carry RateLimit-Policy / RateLimit (IETF draft) and X-RateLimit-Limit/-Remaining/-Reset.',
  },
  'spec.rateLimit.local': { doc: 'Limits counted in each proxy replica (no Redis needed).' },
  'spec.rateLimit.local.rules': {
    doc: 'Limits counted in each proxy replica. A request matching several rules is counted by each and refused if any is over.',
  },
  ...ruleDocs('spec.rateLimit.local.rules[]'),
  'spec.rateLimit.global': {
    doc: 'Limits shared by every replica, counted in the Redis of the budgets (`--redis-url`); without Redis they count per replica.',
  },
  'spec.rateLimit.global.rules': {
    doc: 'Limits counted in Redis across every replica. A request matching several rules is counted by each and refused if any is over.',
  },
  'spec.rateLimit.global.failureMode': {
    doc: 'While Redis is unreachable: FailOpen counts in each replica (its share of what was left), FailClosed refuses with 503 `rate_limiter_unavailable`.',
    default: 'FailOpen',
  },
  ...ruleDocs('spec.rateLimit.global.rules[]'),
  'spec.retry': {
    doc: 'Retries of failed attempts, each to an endpoint picked afresh. Never once a byte of the answer reached the client; request bodies up to 1 MiB (declared Content-Length) are held for replay, larger or chunked ones are sent once. HTTP/1.1 backends only (not h2c or gRPC yet); AI routes retry by their AIBackend.',
  },
  'spec.retry.numRetries': { doc: 'Retries after the first attempt.', default: 2 },
  'spec.retry.retryOn': { doc: 'What is retried.' },
  'spec.retry.retryOn.triggers': {
    doc: '5xx (any 5xx, no answer, connection failure), gateway-error (502/503/504, no answer, connection failure), reset (no answer), connect-failure, retriable-4xx (409), retriable-status-codes (httpStatusCodes).',
    default: ['connect-failure', 'retriable-status-codes'],
  },
  'spec.retry.retryOn.httpStatusCodes': {
    doc: 'Statuses retried with retriable-status-codes.',
    default: [503],
  },
  'spec.retry.perRetry': { doc: 'Per attempt.' },
  'spec.retry.perRetry.timeout': {
    doc: 'An attempt without an answer within this is abandoned (and retried).',
  },
  'spec.retry.perRetry.backOff': {
    doc: 'Wait before retry n: a random time up to min(maxInterval, baseInterval·2ⁿ⁻¹).',
  },
  'spec.retry.perRetry.backOff.baseInterval': { doc: 'The first ceiling.', default: '25ms' },
  'spec.retry.perRetry.backOff.maxInterval': { doc: 'The largest ceiling; without it, 10 × baseInterval.' },
  'spec.circuitBreaker': {
    doc: 'Thresholds per route rule and backend (per proxy replica): a request over one is refused at once with 503 `upstream_overloaded`.',
  },
  'spec.circuitBreaker.maxConnections': {
    doc: 'Exchanges in flight to the backend at once; more wait their turn (up to maxPendingRequests).',
  },
  'spec.circuitBreaker.maxPendingRequests': {
    doc: 'Requests waiting for one of maxConnections; beyond, refused.',
    default: 1024,
  },
  'spec.circuitBreaker.maxParallelRequests': {
    doc: 'Requests in flight or waiting at once; beyond, refused.',
  },
  'spec.circuitBreaker.maxParallelRetries': {
    doc: 'Retries in flight at once; beyond, the failed attempt is answered instead of retried.',
  },
  'spec.timeout': { doc: 'Timeouts toward the backend.' },
  'spec.timeout.http': { doc: 'HTTP.' },
  'spec.timeout.http.requestTimeout': {
    doc: "The whole request, all retries included, else 504. A route's own `timeouts.request` wins.",
  },
};
