/**
 * How a route treats its backends, in the proxy config contract: the effective BackendTrafficPolicy
 * parts after the translator resolved attachment and precedence. Rate limits and circuit breakers are
 * named entries (`ProxyConfig.traffic`) shared by the routes they apply to; a retry policy is small
 * and lives on the route itself (it also comes from the HTTPRoute `retry` field).
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Name } from './names.ts';

const Invert = T.Optional(T.Boolean());
const Count = T.Integer({ minimum: 1, maximum: 1_000_000_000 });

/** Which requests a rate-limit rule counts; every present condition must hold. */
export const RateLimitSelectorSchema = T.Object(
  {
    headers: T.Optional(
      T.Array(
        T.Object(
          {
            name: Name,
            /** `Distinct`: every value of the header is counted in a bucket of its own. */
            type: T.Union([T.Literal('Exact'), T.Literal('RegularExpression'), T.Literal('Distinct')]),
            value: T.Optional(T.String({ maxLength: 4096 })),
            invert: Invert,
          },
          { additionalProperties: false },
        ),
      ),
    ),
    methods: T.Optional(
      T.Array(
        T.Object({ value: T.String({ minLength: 1 }), invert: Invert }, { additionalProperties: false }),
      ),
    ),
    path: T.Optional(
      T.Object(
        {
          type: T.Union([T.Literal('Exact'), T.Literal('PathPrefix'), T.Literal('RegularExpression')]),
          value: T.String({ minLength: 1, maxLength: 1024 }),
          invert: Invert,
        },
        { additionalProperties: false },
      ),
    ),
    /** The detected client address (ClientTrafficPolicy clientIPDetection), not always the peer. */
    sourceCIDR: T.Optional(
      T.Object(
        {
          /** `Distinct`: every address in the range is counted in a bucket of its own. */
          type: T.Union([T.Literal('Exact'), T.Literal('Distinct')]),
          value: T.String(),
          invert: Invert,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const RateLimitRuleSchema = T.Object(
  {
    /** All must hold for the rule to count a request; none: every request of the route. */
    clientSelectors: T.Array(RateLimitSelectorSchema),
    requests: Count,
    /** The window: 1 (Second), 60, 3600 or 86400. */
    unitSeconds: T.Integer({ minimum: 1, maximum: 86_400 }),
    /** One bucket for every route the entry applies to, instead of one per route. */
    shared: T.Optional(T.Boolean()),
    /** Count and report, never refuse. */
    shadowMode: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);

/** Envoy Gateway's circuit-breaker thresholds, per route rule and backend. */
export const CircuitBreakerSchema = T.Object(
  {
    /** Exchanges in flight at once; more wait (up to maxPendingRequests). */
    maxConnections: T.Optional(Count),
    /** Requests waiting for one of maxConnections; beyond this they are refused (503). */
    maxPendingRequests: T.Optional(T.Integer({ minimum: 0, maximum: 1_000_000_000 })),
    /** Requests in flight at once, waiting or not; beyond this they are refused (503). */
    maxParallelRequests: T.Optional(Count),
    /** Retries in flight at once; a retry beyond this is not made (the failure is answered). */
    maxParallelRetries: T.Optional(Count),
  },
  { additionalProperties: false },
);

/** How a route spreads requests over a backend's endpoints (BackendTrafficPolicy `loadBalancer`). */
export const LoadBalancerSchema = T.Object(
  {
    type: T.Union([
      T.Literal('RoundRobin'),
      T.Literal('LeastRequest'),
      T.Literal('Random'),
      T.Literal('ConsistentHash'),
    ]),
    /** With ConsistentHash: what the key is. */
    hashOn: T.Optional(
      T.Object(
        {
          type: T.Union([T.Literal('SourceIP'), T.Literal('Header'), T.Literal('Cookie')]),
          /** The header or cookie name. */
          name: T.Optional(Name),
          /** A missing cookie is set on the answer with this Max-Age (seconds); without it, none is set. */
          cookieTtlSeconds: T.Optional(T.Integer({ minimum: 0 })),
          /** Extra attributes of a set cookie (`Path`, `SameSite`…). */
          cookieAttributes: T.Optional(T.Record(T.String(), T.String({ maxLength: 256 }))),
        },
        { additionalProperties: false },
      ),
    ),
    /** A new endpoint's share grows linearly from 10% to 100% over this window (RoundRobin, LeastRequest). */
    slowStartWindowMs: T.Optional(T.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

/** Active probes and passive outlier detection of a backend's endpoints (BackendTrafficPolicy `healthCheck`). */
export const HealthCheckSchema = T.Object(
  {
    active: T.Optional(
      T.Object(
        {
          type: T.Union([T.Literal('HTTP'), T.Literal('TCP')]),
          intervalMs: T.Integer({ minimum: 10 }),
          timeoutMs: T.Integer({ minimum: 1 }),
          /** Failed probes in a row that mark an endpoint unhealthy. */
          unhealthyThreshold: T.Integer({ minimum: 1 }),
          /** Passed probes in a row that mark an unhealthy endpoint healthy again. */
          healthyThreshold: T.Integer({ minimum: 1 }),
          http: T.Optional(
            T.Object(
              {
                path: T.String({ minLength: 1, maxLength: 1024 }),
                method: T.String({ minLength: 1, maxLength: 16 }),
                expectedStatuses: T.Array(T.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 }),
                /** The answer body must contain these bytes (hex). */
                expectedBodyHex: T.Optional(T.String({ maxLength: 8192 })),
              },
              { additionalProperties: false },
            ),
          ),
          tcp: T.Optional(
            T.Object(
              {
                /** Bytes sent once connected (hex); without it a connect is the probe. */
                sendHex: T.Optional(T.String({ maxLength: 8192 })),
                /** Bytes the answer must contain (hex). */
                receiveHex: T.Optional(T.String({ maxLength: 8192 })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    passive: T.Optional(
      T.Object(
        {
          /** Answers of 500 and above in a row that eject an endpoint (0: not counted). */
          consecutive5xx: T.Integer({ minimum: 0 }),
          /** 502, 503, 504 and failures to connect or to get an answer, in a row (0: not counted). */
          consecutiveGatewayErrors: T.Integer({ minimum: 0 }),
          /** With splitExternalLocalOriginErrors: connect failures, resets and timeouts in a row. */
          consecutiveLocalOriginFailures: T.Integer({ minimum: 0 }),
          /** Count failures to reach the endpoint apart from its answers (then they are not 5xx). */
          splitExternalLocalOriginErrors: T.Boolean(),
          /** An ejection lasts this times the number of times the endpoint was ejected (at most 300 s or this). */
          baseEjectionMs: T.Integer({ minimum: 1 }),
          /** At most this share of a backend's endpoints is ejected at once (at least one endpoint). */
          maxEjectionPercent: T.Integer({ minimum: 0, maximum: 100 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Delays and aborts injected on purpose, for chaos drills (BackendTrafficPolicy `faultInjection`). */
export const FaultInjectionSchema = T.Object(
  {
    delay: T.Optional(
      T.Object(
        { ms: T.Integer({ minimum: 0 }), percent: T.Number({ minimum: 0, maximum: 100 }) },
        { additionalProperties: false },
      ),
    ),
    abort: T.Optional(
      T.Object(
        {
          /** The HTTP status answered (gRPC calls without grpcStatus get the catalog's mapping of it). */
          httpStatus: T.Optional(T.Integer({ minimum: 200, maximum: 599 })),
          grpcStatus: T.Optional(T.Integer({ minimum: 0, maximum: 16 })),
          percent: T.Number({ minimum: 0, maximum: 100 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Answers compressed for clients that accept it (BackendTrafficPolicy `compression`). */
export const CompressionSchema = T.Object(
  {
    /** Content codings offered, in the policy's order (the client's weights decide first). */
    codings: T.Array(T.Union([T.Literal('gzip'), T.Literal('br'), T.Literal('zstd')]), { minItems: 1 }),
    /** Answers announcing fewer bytes stay as they are. */
    minLength: T.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

/** Answers replaced by the gateway for some statuses (BackendTrafficPolicy `responseOverride`). */
export const ResponseOverrideSchema = T.Array(
  T.Object(
    {
      /** Statuses (inclusive ranges; a single status has start = end) this entry replaces. */
      statuses: T.Array(
        T.Object(
          {
            start: T.Integer({ minimum: 100, maximum: 599 }),
            end: T.Integer({ minimum: 100, maximum: 599 }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
      /** The status sent instead; absent: the original one. */
      status: T.Optional(T.Integer({ minimum: 100, maximum: 599 })),
      contentType: T.Optional(T.String({ maxLength: 256 })),
      body: T.String({ maxLength: 65_536 }),
    },
    { additionalProperties: false },
  ),
  { minItems: 1 },
);

export const TrafficSchema = T.Object(
  {
    /** The policies it came from, e.g. `default/limits`; names buckets, metrics and logs. */
    name: Name,
    rateLimit: T.Optional(
      T.Object(
        {
          /** The policy the rules come from: shared rules count under it, and metrics name it. */
          policy: Name,
          /** Counted in this proxy process (per replica), fixed windows. */
          local: T.Optional(T.Array(RateLimitRuleSchema, { minItems: 1 })),
          /** Counted in Redis across replicas, fixed windows; without Redis they count locally. */
          global: T.Optional(
            T.Object(
              {
                rules: T.Array(RateLimitRuleSchema, { minItems: 1 }),
                /** While Redis is unreachable: count locally (FailOpen, default) or refuse (FailClosed). */
                failureMode: T.Optional(T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')])),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    circuitBreaker: T.Optional(CircuitBreakerSchema),
    loadBalancer: T.Optional(LoadBalancerSchema),
    healthCheck: T.Optional(HealthCheckSchema),
    faultInjection: T.Optional(FaultInjectionSchema),
    compression: T.Optional(CompressionSchema),
    responseOverride: T.Optional(ResponseOverrideSchema),
  },
  { additionalProperties: false },
);

/** What makes an attempt worth retrying (Envoy's retry-on names). */
export const RetryTriggerSchema = T.Union([
  T.Literal('5xx'),
  T.Literal('gateway-error'),
  T.Literal('reset'),
  T.Literal('connect-failure'),
  T.Literal('retriable-4xx'),
  T.Literal('retriable-status-codes'),
]);

export const RetrySchema = T.Object(
  {
    /** Retries after the first attempt. */
    numRetries: T.Integer({ minimum: 0, maximum: 10 }),
    triggers: T.Array(RetryTriggerSchema, { minItems: 1 }),
    /** With `retriable-status-codes`: the statuses retried. */
    statusCodes: T.Array(T.Integer({ minimum: 100, maximum: 599 })),
    perRetryTimeoutMs: T.Optional(T.Integer({ minimum: 1 })),
    /** Jittered exponential back-off: retry n waits random(0, min(max, base·2ⁿ⁻¹)). */
    backOffBaseMs: T.Integer({ minimum: 0 }),
    backOffMaxMs: T.Integer({ minimum: 0 }),
    /** The base is also the least wait (the HTTPRoute `retry.backoff` is a minimum). */
    backOffFloor: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);

export type RateLimitSelector = Static<typeof RateLimitSelectorSchema>;
export type RateLimitRule = Static<typeof RateLimitRuleSchema>;
export type CircuitBreaker = Static<typeof CircuitBreakerSchema>;
export type Traffic = Static<typeof TrafficSchema>;
export type LoadBalancer = Static<typeof LoadBalancerSchema>;
export type HealthCheck = Static<typeof HealthCheckSchema>;
export type FaultInjection = Static<typeof FaultInjectionSchema>;
export type Compression = Static<typeof CompressionSchema>;
export type ResponseOverride = Static<typeof ResponseOverrideSchema>;
export type Retry = Static<typeof RetrySchema>;
export type RetryTrigger = Static<typeof RetryTriggerSchema>;
