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

/** The docs of a health-check payload (Text or Binary), wherever one is given. */
function payloadDocs(base: string, what: string): Record<string, FieldDoc> {
  return {
    [base]: { doc: what },
    [`${base}.type`]: { doc: 'Text or Binary.' },
    [`${base}.text`]: { doc: 'With Text.' },
    [`${base}.binary`]: { doc: 'With Binary: base64.' },
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
  'spec.timeout.tcp': { doc: 'TCP.' },
  'spec.timeout.tcp.connectTimeout': {
    doc: 'A connection to a backend endpoint not made within this fails the attempt (502 `upstream_unreachable`, retried under `connect-failure`). Service routes.',
    default: '10s',
  },
  'spec.timeout.http.connectionIdleTimeout': {
    doc: "Pooled connections to the backend idle this long are closed (never longer than the backend's own Keep-Alive hint). Service routes.",
    default: '30s',
  },
  'spec.timeout.http.requestTimeout': {
    doc: "The whole request, all retries included, else 504. A route's own `timeouts.request` wins.",
  },
  'spec.loadBalancer': {
    doc: "How a request's endpoint is chosen among the backend's endpoints in service. Service backends only: AI routes pick targets by their AIBackend.",
  },
  'spec.loadBalancer.type': {
    doc: 'RoundRobin (rotation), LeastRequest (the less busy of two random endpoints), Random, or ConsistentHash (a key always lands on the same endpoint while it is in service; removing one endpoint moves only its keys).',
  },
  'spec.loadBalancer.consistentHash': { doc: 'With ConsistentHash: what the key is.' },
  'spec.loadBalancer.consistentHash.type': {
    doc: 'SourceIP (the client address after ClientTrafficPolicy client-IP detection), Header or Cookie. A request without the key goes to a random endpoint.',
  },
  'spec.loadBalancer.consistentHash.header': { doc: 'With type Header.' },
  'spec.loadBalancer.consistentHash.header.name': { doc: 'The header whose (first) value is the key.' },
  'spec.loadBalancer.consistentHash.cookie': { doc: 'With type Cookie.' },
  'spec.loadBalancer.consistentHash.cookie.name': { doc: 'The cookie whose value is the key.' },
  'spec.loadBalancer.consistentHash.cookie.ttl': {
    doc: 'When set, a client without the cookie gets one (random value, HttpOnly, Path=/) with this Max-Age, so its next requests stick to the same endpoint; 0s makes a session cookie. Without it no cookie is set.',
  },
  'spec.loadBalancer.consistentHash.cookie.attributes': {
    doc: 'More attributes of the set cookie (SameSite, Secure, Path, Domain); an empty value writes the bare attribute.',
  },
  'spec.loadBalancer.consistentHash.tableSize': {
    doc: "Accepted for Envoy Gateway compatibility and ignored: Sluice's ring has at least 1,024 points.",
  },
  'spec.loadBalancer.slowStart': {
    doc: 'RoundRobin and LeastRequest: an endpoint that comes into service (new, back from ejection or failing checks) starts at 10% of a full share, growing linearly to 100% over the window.',
  },
  'spec.loadBalancer.slowStart.window': { doc: 'The warm-up time.' },
  'spec.healthCheck': {
    doc: 'Which endpoints are in service. An endpoint out of service is skipped by every route using it; when none of a backend is in service all are used (panic mode, as Envoy), so checks never make a backend less available than no checks. Service backends only.',
  },
  'spec.healthCheck.active': { doc: 'Probes sent by each proxy replica to every endpoint.' },
  'spec.healthCheck.active.type': {
    doc: 'HTTP (a request) or TCP (a connect, optionally a payload exchange).',
  },
  'spec.healthCheck.active.timeout': { doc: 'A probe without an answer within this fails.', default: '1s' },
  'spec.healthCheck.active.interval': { doc: 'Time between probes (plus up to 10% jitter).', default: '3s' },
  'spec.healthCheck.active.unhealthyThreshold': {
    doc: 'Failed probes in a row that take an endpoint out of service.',
    default: 3,
  },
  'spec.healthCheck.active.healthyThreshold': {
    doc: 'Passed probes in a row that bring it back.',
    default: 1,
  },
  'spec.healthCheck.active.http': { doc: 'With type HTTP.' },
  'spec.healthCheck.active.http.path': { doc: 'The path requested (Host: the endpoint address).' },
  'spec.healthCheck.active.http.method': { doc: 'The method.', default: 'GET' },
  'spec.healthCheck.active.http.expectedStatuses': { doc: 'Statuses that pass.', default: [200] },
  ...payloadDocs('spec.healthCheck.active.http.expectedResponse', 'Bytes the answer body must contain.'),
  'spec.healthCheck.active.tcp': { doc: 'With type TCP: without send/receive a connect passes.' },
  ...payloadDocs('spec.healthCheck.active.tcp.send', 'Bytes sent once connected.'),
  ...payloadDocs('spec.healthCheck.active.tcp.receive', 'Bytes the answer must contain.'),
  'spec.healthCheck.passive': {
    doc: 'Outlier detection from real traffic: an endpoint failing too often in a row is ejected (out of service) for baseEjectionTime × the times it was ejected, at most 300 s (or the base, if longer). A good answer resets the counts; HTTP/1.1 backends only (h2c and gRPC answers are not counted).',
  },
  'spec.healthCheck.passive.splitExternalLocalOriginErrors': {
    doc: 'Count failures to reach the endpoint (refused, reset, timed out) apart, against consecutiveLocalOriginFailures, instead of as 5xx.',
    default: false,
  },
  'spec.healthCheck.passive.interval': {
    doc: 'Accepted for Envoy Gateway compatibility: Sluice judges each answer as it comes, so there is no sweep interval.',
    default: '3s',
  },
  'spec.healthCheck.passive.consecutiveLocalOriginFailures': {
    doc: 'With splitExternalLocalOriginErrors: failures to reach the endpoint in a row that eject it.',
    default: 5,
  },
  'spec.healthCheck.passive.consecutiveGatewayErrors': {
    doc: '502, 503, 504 or no answer, in a row, that eject it; 0: not counted.',
    default: 0,
  },
  'spec.healthCheck.passive.consecutive5XxErrors': {
    doc: 'Answers of 500 and above (and, unless split, failures to reach it) in a row that eject it; 0: not counted.',
    default: 5,
  },
  'spec.healthCheck.passive.baseEjectionTime': { doc: 'The first ejection lasts this long.', default: '30s' },
  'spec.healthCheck.passive.maxEjectionPercent': {
    doc: "The largest share of a backend's endpoints ejected at once; one endpoint may always be ejected.",
    default: 10,
  },
  'spec.faultInjection': {
    doc: 'Chaos drills: delay and/or abort a share of the requests before they reach the backend (after rate limits). AI routes too: an abort answers before any provider is called.',
  },
  'spec.faultInjection.delay': { doc: 'Hold the request this long first.' },
  'spec.faultInjection.delay.fixedDelay': { doc: 'The delay.' },
  'spec.faultInjection.delay.percentage': { doc: 'Share of requests delayed, 0 to 100.', default: 100 },
  'spec.faultInjection.abort': {
    doc: 'Answer instead of the backend, with 503 `fault_injected` in the error catalog shape (or the status given).',
  },
  'spec.faultInjection.abort.httpStatus': { doc: 'The HTTP status answered (200–599).' },
  'spec.faultInjection.abort.grpcStatus': {
    doc: 'For gRPC calls: the grpc-status answered (0–16). HTTP requests get 503.',
  },
  'spec.faultInjection.abort.percentage': { doc: 'Share of requests aborted, 0 to 100.', default: 100 },
  'spec.compression': {
    doc: "Compress answers of Service routes for clients that accept it (Accept-Encoding; the client's weights decide, then this order). Only text-like types (text/*, JSON, XML, JavaScript, SVG, NDJSON), never an answer already encoded, nor HEAD, 204 or 304; event streams are flushed event by event. Adds Vary: Accept-Encoding. Levels are Envoy Gateway's defaults (gzip 6, brotli 3, zstd 3); AI answers are not compressed.",
  },
  'spec.compression[].type': { doc: 'Gzip, Brotli or Zstd.' },
  'spec.compression[].minContentLength': {
    doc: 'Answers announcing fewer bytes are sent as they are (bytes, or a quantity such as 1Ki); the first entry that sets it decides.',
    default: 30,
  },
  'spec.responseOverride': {
    doc: "The route's own answer instead of the backend's (or the gateway's own upstream error: 502, 504) for some statuses: a maintenance page, an error body in your API's shape. The first entry naming a status wins; the route's response header filters still apply. Service routes (AI routes answer in the OpenAI or Anthropic error shape); not for gRPC calls.",
  },
  'spec.responseOverride[].match': { doc: 'Which answers are replaced.' },
  'spec.responseOverride[].match.statusCodes': { doc: 'Statuses or ranges of them.' },
  'spec.responseOverride[].match.statusCodes[].type': { doc: 'Value or Range.', default: 'Value' },
  'spec.responseOverride[].match.statusCodes[].value': { doc: 'One status (with Value).' },
  'spec.responseOverride[].match.statusCodes[].range': { doc: 'Statuses from start to end (with Range).' },
  'spec.responseOverride[].match.statusCodes[].range.start': { doc: 'First status.' },
  'spec.responseOverride[].match.statusCodes[].range.end': { doc: 'Last status (included).' },
  'spec.responseOverride[].response': { doc: 'What is sent instead.' },
  'spec.responseOverride[].response.contentType': {
    doc: 'Content-Type of the body.',
    default: 'text/plain; charset=utf-8',
  },
  'spec.responseOverride[].response.body': { doc: 'The body; without it, an empty one.' },
  'spec.responseOverride[].response.body.type': {
    doc: 'Inline (ValueRef, a body from a ConfigMap, is not implemented).',
    default: 'Inline',
  },
  'spec.responseOverride[].response.body.inline': { doc: 'The body text (at most 64 KiB).' },
  'spec.responseOverride[].response.statusCode': { doc: 'The status sent; without it, the original one.' },
};
