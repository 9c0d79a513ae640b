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
export type Retry = Static<typeof RetrySchema>;
export type RetryTrigger = Static<typeof RetryTriggerSchema>;
