/**
 * BackendTrafficPolicy (`sluice.dev/v1alpha1`): how a route treats its backends. Field names follow
 * Envoy Gateway's BackendTrafficPolicy. Implemented: rate limits (local and global), retries, the
 * circuit breaker and the request timeout.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { isCidr } from '../../../proxy/src/config/cidr.ts';
import { userRegexProblem } from '../../../proxy/src/config/user-regex.ts';
import { ObjectMetaSchema } from './meta.ts';
import {
  Cidr,
  Duration,
  HeaderName,
  RouteTargetKind,
  targetFields,
  targetRequiredRule,
} from './policy-targets.ts';
import { SLUICE_API_VERSION } from './sluice-api.ts';

const Invert = T.Optional(T.Boolean());
const Threshold = T.Integer({ minimum: 1, maximum: 4_294_967_295 });

const HeaderSelector = T.Object(
  {
    name: HeaderName,
    type: T.Optional(T.Union([T.Literal('Exact'), T.Literal('RegularExpression'), T.Literal('Distinct')])),
    value: T.Optional(T.String({ maxLength: 1024 })),
    invert: Invert,
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "has(self.type) && self.type == 'Distinct' ? !has(self.value) && !has(self.invert) : has(self.value)",
        message: 'a Distinct header match takes no value or invert; Exact and RegularExpression need a value',
      },
    ],
  },
);

const ClientSelector = T.Object(
  {
    headers: T.Optional(T.Array(HeaderSelector, { maxItems: 16 })),
    methods: T.Optional(
      T.Array(
        T.Object(
          {
            value: T.Union(
              ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'].map((m) =>
                T.Literal(m),
              ),
            ),
            invert: Invert,
          },
          { additionalProperties: false },
        ),
        { maxItems: 16 },
      ),
    ),
    path: T.Optional(
      T.Object(
        {
          type: T.Optional(
            T.Union([T.Literal('Exact'), T.Literal('PathPrefix'), T.Literal('RegularExpression')]),
          ),
          value: T.String({ minLength: 1, maxLength: 1024 }),
          invert: Invert,
        },
        { additionalProperties: false },
      ),
    ),
    sourceCIDR: T.Optional(
      T.Object(
        {
          type: T.Optional(T.Union([T.Literal('Exact'), T.Literal('Distinct')])),
          value: Cidr,
          invert: Invert,
        },
        {
          additionalProperties: false,
          'x-kubernetes-validations': [
            { rule: 'isCIDR(self.value)', message: 'sourceCIDR.value must be an IPv4 or IPv6 CIDR' },
          ],
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'has(self.headers) || has(self.methods) || has(self.path) || has(self.sourceCIDR)',
        message: 'a client selector needs at least one of headers, methods, path or sourceCIDR',
      },
    ],
  },
);

const RateLimitRule = T.Object(
  {
    clientSelectors: T.Optional(T.Array(ClientSelector, { maxItems: 8 })),
    limit: T.Object(
      {
        requests: Threshold,
        unit: T.Union([T.Literal('Second'), T.Literal('Minute'), T.Literal('Hour'), T.Literal('Day')]),
      },
      { additionalProperties: false },
    ),
    /** One bucket for every route the policy applies to (default: one per route). */
    shared: T.Optional(T.Boolean()),
    /** Count and report, never refuse (to try a limit on live traffic first). */
    shadowMode: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);

const RetryTrigger = T.Union(
  ['5xx', 'gateway-error', 'reset', 'connect-failure', 'retriable-4xx', 'retriable-status-codes'].map((t) =>
    T.Literal(t),
  ),
);

const Payload = T.Object(
  {
    type: T.Union([T.Literal('Text'), T.Literal('Binary')]),
    text: T.Optional(T.String({ maxLength: 4096 })),
    /** Base64. */
    binary: T.Optional(T.String({ maxLength: 8192 })),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "self.type == 'Text' ? has(self.text) && !has(self.binary) : has(self.binary) && !has(self.text)",
        message: 'a Text payload needs text, a Binary payload needs binary (base64), not both',
      },
    ],
  },
);

const LoadBalancer = T.Object(
  {
    type: T.Union([
      T.Literal('ConsistentHash'),
      T.Literal('LeastRequest'),
      T.Literal('Random'),
      T.Literal('RoundRobin'),
    ]),
    consistentHash: T.Optional(
      T.Object(
        {
          type: T.Union([T.Literal('SourceIP'), T.Literal('Header'), T.Literal('Cookie')]),
          header: T.Optional(T.Object({ name: HeaderName }, { additionalProperties: false })),
          cookie: T.Optional(
            T.Object(
              {
                name: T.String({ minLength: 1, maxLength: 256, pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
                /** Max-Age of a cookie the gateway sets when the client sent none; without it none is set. */
                ttl: T.Optional(Duration),
                attributes: T.Optional(
                  T.Record(T.String({ pattern: '^[A-Za-z][A-Za-z-]*$' }), T.String({ maxLength: 256 }), {
                    maxProperties: 8,
                  }),
                ),
              },
              { additionalProperties: false },
            ),
          ),
          /** Accepted for Envoy Gateway compatibility; Sluice's ring size follows the endpoint count. */
          tableSize: T.Optional(T.Integer({ minimum: 2, maximum: 5_000_011 })),
        },
        {
          additionalProperties: false,
          'x-kubernetes-validations': [
            {
              rule: "self.type == 'Header' ? has(self.header) : !has(self.header)",
              message: 'consistentHash.header is set exactly when type is Header',
            },
            {
              rule: "self.type == 'Cookie' ? has(self.cookie) : !has(self.cookie)",
              message: 'consistentHash.cookie is set exactly when type is Cookie',
            },
          ],
        },
      ),
    ),
    slowStart: T.Optional(T.Object({ window: Duration }, { additionalProperties: false })),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "self.type == 'ConsistentHash' ? has(self.consistentHash) : !has(self.consistentHash)",
        message: 'consistentHash is set exactly when type is ConsistentHash',
      },
      {
        rule: "self.type in ['Random', 'ConsistentHash'] ? !has(self.slowStart) : true",
        message: 'slowStart applies to RoundRobin and LeastRequest only',
      },
    ],
  },
);

const Count32 = T.Integer({ minimum: 0, maximum: 4_294_967_295 });

const HealthCheck = T.Object(
  {
    active: T.Optional(
      T.Object(
        {
          type: T.Union([T.Literal('HTTP'), T.Literal('TCP')]),
          timeout: T.Optional(Duration),
          interval: T.Optional(Duration),
          unhealthyThreshold: T.Optional(Threshold),
          healthyThreshold: T.Optional(Threshold),
          http: T.Optional(
            T.Object(
              {
                path: T.String({ minLength: 1, maxLength: 1024, pattern: '^/' }),
                method: T.Optional(
                  T.Union(
                    ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH'].map((m) =>
                      T.Literal(m),
                    ),
                  ),
                ),
                expectedStatuses: T.Optional(
                  T.Array(T.Integer({ minimum: 100, maximum: 599 }), { maxItems: 32 }),
                ),
                expectedResponse: T.Optional(Payload),
              },
              { additionalProperties: false },
            ),
          ),
          tcp: T.Optional(
            T.Object(
              { send: T.Optional(Payload), receive: T.Optional(Payload) },
              { additionalProperties: false },
            ),
          ),
        },
        {
          additionalProperties: false,
          'x-kubernetes-validations': [
            {
              rule: "self.type == 'HTTP' ? has(self.http) : !has(self.http)",
              message: 'active.http is set exactly when type is HTTP',
            },
            {
              rule: "self.type == 'TCP' ? true : !has(self.tcp)",
              message: 'active.tcp is only for type TCP',
            },
          ],
        },
      ),
    ),
    passive: T.Optional(
      T.Object(
        {
          splitExternalLocalOriginErrors: T.Optional(T.Boolean()),
          /** Accepted for Envoy Gateway compatibility: Sluice counts every answer as it comes. */
          interval: T.Optional(Duration),
          consecutiveLocalOriginFailures: T.Optional(Count32),
          consecutiveGatewayErrors: T.Optional(Count32),
          consecutive5XxErrors: T.Optional(Count32),
          baseEjectionTime: T.Optional(Duration),
          maxEjectionPercent: T.Optional(T.Integer({ minimum: 0, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      { rule: 'has(self.active) || has(self.passive)', message: 'healthCheck needs active or passive' },
    ],
  },
);

const Percentage = T.Number({ minimum: 0, maximum: 100 });

const FaultInjection = T.Object(
  {
    delay: T.Optional(
      T.Object({ fixedDelay: Duration, percentage: T.Optional(Percentage) }, { additionalProperties: false }),
    ),
    abort: T.Optional(
      T.Object(
        {
          httpStatus: T.Optional(T.Integer({ minimum: 200, maximum: 599 })),
          grpcStatus: T.Optional(T.Integer({ minimum: 0, maximum: 16 })),
          percentage: T.Optional(Percentage),
        },
        {
          additionalProperties: false,
          'x-kubernetes-validations': [
            {
              rule: 'has(self.httpStatus) != has(self.grpcStatus)',
              message: 'abort needs exactly one of httpStatus and grpcStatus',
            },
          ],
        },
      ),
    ),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      { rule: 'has(self.delay) || has(self.abort)', message: 'faultInjection needs delay or abort' },
    ],
  },
);

const Compression = T.Object(
  {
    type: T.Union([T.Literal('Gzip'), T.Literal('Brotli'), T.Literal('Zstd')]),
    /** Bytes (`1024`, `1Ki`, `4k`); smaller answers are not compressed. */
    minContentLength: T.Optional(
      T.Union([T.Integer({ minimum: 1 }), T.String({ pattern: '^[1-9]+[0-9]*([EPTGMK]i|[EPTGMk])?$' })]),
    ),
  },
  { additionalProperties: false },
);

const HttpStatus = T.Integer({ minimum: 100, maximum: 599 });

const ResponseOverride = T.Object(
  {
    match: T.Object(
      {
        statusCodes: T.Array(
          T.Object(
            {
              type: T.Optional(T.Union([T.Literal('Value'), T.Literal('Range')])),
              value: T.Optional(HttpStatus),
              range: T.Optional(
                T.Object(
                  { start: HttpStatus, end: HttpStatus },
                  {
                    additionalProperties: false,
                    'x-kubernetes-validations': [
                      { rule: 'self.start <= self.end', message: 'range.start must not be above range.end' },
                    ],
                  },
                ),
              ),
            },
            {
              additionalProperties: false,
              'x-kubernetes-validations': [
                {
                  rule: "(!has(self.type) || self.type == 'Value') ? has(self.value) && !has(self.range) : has(self.range) && !has(self.value)",
                  message: 'a Value match needs value, a Range match needs range',
                },
              ],
            },
          ),
          { minItems: 1, maxItems: 50 },
        ),
      },
      { additionalProperties: false },
    ),
    response: T.Object(
      {
        contentType: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
        body: T.Optional(
          T.Object(
            {
              /** Only Inline: ValueRef (a ConfigMap) is not implemented. */
              type: T.Optional(T.Literal('Inline')),
              inline: T.String({ maxLength: 65_536 }),
            },
            { additionalProperties: false },
          ),
        ),
        statusCode: T.Optional(HttpStatus),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export const BackendTrafficPolicySchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('BackendTrafficPolicy'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      ...targetFields(RouteTargetKind),
      rateLimit: T.Optional(
        T.Object(
          {
            local: T.Optional(
              T.Object(
                { rules: T.Array(RateLimitRule, { minItems: 1, maxItems: 16 }) },
                { additionalProperties: false },
              ),
            ),
            global: T.Optional(
              T.Object(
                {
                  rules: T.Array(RateLimitRule, { minItems: 1, maxItems: 16 }),
                  /** While Redis is unreachable: count per replica (FailOpen, default) or refuse with 503. */
                  failureMode: T.Optional(T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')])),
                },
                { additionalProperties: false },
              ),
            ),
          },
          {
            additionalProperties: false,
            'x-kubernetes-validations': [
              { rule: 'has(self.local) || has(self.global)', message: 'rateLimit needs local or global' },
            ],
          },
        ),
      ),
      retry: T.Optional(
        T.Object(
          {
            numRetries: T.Optional(T.Integer({ minimum: 0, maximum: 10 })),
            retryOn: T.Optional(
              T.Object(
                {
                  triggers: T.Optional(T.Array(RetryTrigger, { minItems: 1, maxItems: 6 })),
                  httpStatusCodes: T.Optional(
                    T.Array(T.Integer({ minimum: 100, maximum: 599 }), { maxItems: 32 }),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
            perRetry: T.Optional(
              T.Object(
                {
                  timeout: T.Optional(Duration),
                  backOff: T.Optional(
                    T.Object(
                      { baseInterval: T.Optional(Duration), maxInterval: T.Optional(Duration) },
                      { additionalProperties: false },
                    ),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      circuitBreaker: T.Optional(
        T.Object(
          {
            maxConnections: T.Optional(Threshold),
            maxPendingRequests: T.Optional(T.Integer({ minimum: 0, maximum: 4_294_967_295 })),
            maxParallelRequests: T.Optional(Threshold),
            maxParallelRetries: T.Optional(Threshold),
          },
          { additionalProperties: false },
        ),
      ),
      loadBalancer: T.Optional(LoadBalancer),
      healthCheck: T.Optional(HealthCheck),
      faultInjection: T.Optional(FaultInjection),
      compression: T.Optional(T.Array(Compression, { minItems: 1, maxItems: 3 })),
      responseOverride: T.Optional(T.Array(ResponseOverride, { minItems: 1, maxItems: 16 })),
      timeout: T.Optional(
        T.Object(
          {
            tcp: T.Optional(
              T.Object({ connectTimeout: T.Optional(Duration) }, { additionalProperties: false }),
            ),
            http: T.Optional(
              T.Object(
                {
                  /** The whole request, all retries included (a route's own `timeouts.request` wins). */
                  requestTimeout: T.Optional(Duration),
                  /** Pooled connections to the backend idle this long are closed. */
                  connectionIdleTimeout: T.Optional(Duration),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
    },
    {
      additionalProperties: false,
      'x-kubernetes-validations': [targetRequiredRule('BackendTrafficPolicy')],
    },
  ),
});

export type BackendTrafficPolicy = Static<typeof BackendTrafficPolicySchema>;
export type RateLimitRuleSpec = Static<typeof RateLimitRule>;

/** The CRD's CEL rules (and RE2 checks the API server cannot make), for every provider. */
export function backendTrafficPolicyProblems(p: BackendTrafficPolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const spec = p.spec;
  if (!spec.targetRefs?.length && !spec.targetSelectors?.length)
    problems.push({ field: '/spec', message: 'a BackendTrafficPolicy needs targetRefs or targetSelectors' });
  if (spec.rateLimit && !spec.rateLimit.local && !spec.rateLimit.global)
    problems.push({ field: '/spec/rateLimit', message: 'rateLimit needs local or global' });
  problems.push(...loadBalancerProblems(spec.loadBalancer), ...healthCheckProblems(spec.healthCheck));
  for (const [oi, o] of (spec.responseOverride ?? []).entries())
    for (const [mi, m] of o.match.statusCodes.entries()) {
      const field = `/spec/responseOverride/${oi}/match/statusCodes/${mi}`;
      const range = m.type === 'Range';
      if (range ? !m.range || m.value !== undefined : m.value === undefined || m.range !== undefined)
        problems.push({ field, message: 'a Value match needs value, a Range match needs range' });
      if (m.range && m.range.start > m.range.end)
        problems.push({ field, message: 'range.start must not be above range.end' });
    }
  const fault = spec.faultInjection;
  if (fault && !fault.delay && !fault.abort)
    problems.push({ field: '/spec/faultInjection', message: 'faultInjection needs delay or abort' });
  if (fault?.abort && (fault.abort.httpStatus === undefined) === (fault.abort.grpcStatus === undefined))
    problems.push({
      field: '/spec/faultInjection/abort',
      message: 'abort needs exactly one of httpStatus and grpcStatus',
    });
  const rules = [
    ...(spec.rateLimit?.local?.rules ?? []).map((r, i) => [`/spec/rateLimit/local/rules/${i}`, r] as const),
    ...(spec.rateLimit?.global?.rules ?? []).map((r, i) => [`/spec/rateLimit/global/rules/${i}`, r] as const),
  ];
  for (const [at, rule] of rules)
    (rule.clientSelectors ?? []).forEach((sel, si) => {
      const field = `${at}/clientSelectors/${si}`;
      if (!sel.headers && !sel.methods && !sel.path && !sel.sourceCIDR)
        problems.push({
          field,
          message: 'a client selector needs at least one of headers, methods, path or sourceCIDR',
        });
      if (sel.sourceCIDR && !isCidr(sel.sourceCIDR.value))
        problems.push({ field: `${field}/sourceCIDR`, message: `${sel.sourceCIDR.value} is not a CIDR` });
      (sel.headers ?? []).forEach((h, hi) => {
        const distinct = h.type === 'Distinct';
        if (distinct ? h.value !== undefined || h.invert !== undefined : h.value === undefined)
          problems.push({
            field: `${field}/headers/${hi}`,
            message:
              'a Distinct header match takes no value or invert; Exact and RegularExpression need a value',
          });
        const problem = h.type === 'RegularExpression' && h.value ? userRegexProblem(h.value) : undefined;
        if (problem) problems.push({ field: `${field}/headers/${hi}/value`, message: problem });
      });
      const pathProblem =
        sel.path?.type === 'RegularExpression' ? userRegexProblem(sel.path.value) : undefined;
      if (pathProblem) problems.push({ field: `${field}/path/value`, message: pathProblem });
    });
  return problems;
}

type Spec = BackendTrafficPolicy['spec'];

function loadBalancerProblems(lb: Spec['loadBalancer']): { field: string; message: string }[] {
  if (!lb) return [];
  const field = '/spec/loadBalancer';
  const problems: { field: string; message: string }[] = [];
  if ((lb.type === 'ConsistentHash') !== (lb.consistentHash !== undefined))
    problems.push({ field, message: 'consistentHash is set exactly when type is ConsistentHash' });
  if ((lb.type === 'Random' || lb.type === 'ConsistentHash') && lb.slowStart)
    problems.push({ field, message: 'slowStart applies to RoundRobin and LeastRequest only' });
  const ch = lb.consistentHash;
  if (ch && (ch.type === 'Header') !== (ch.header !== undefined))
    problems.push({
      field: `${field}/consistentHash`,
      message: 'consistentHash.header is set exactly when type is Header',
    });
  if (ch && (ch.type === 'Cookie') !== (ch.cookie !== undefined))
    problems.push({
      field: `${field}/consistentHash`,
      message: 'consistentHash.cookie is set exactly when type is Cookie',
    });
  return problems;
}

function healthCheckProblems(hc: Spec['healthCheck']): { field: string; message: string }[] {
  if (!hc) return [];
  const field = '/spec/healthCheck';
  const problems: { field: string; message: string }[] = [];
  if (!hc.active && !hc.passive) problems.push({ field, message: 'healthCheck needs active or passive' });
  const a = hc.active;
  if (a && (a.type === 'HTTP') !== (a.http !== undefined))
    problems.push({ field: `${field}/active`, message: 'active.http is set exactly when type is HTTP' });
  if (a && a.type !== 'TCP' && a.tcp)
    problems.push({ field: `${field}/active`, message: 'active.tcp is only for type TCP' });
  const payloads = [
    ['active/http/expectedResponse', a?.http?.expectedResponse],
    ['active/tcp/send', a?.tcp?.send],
    ['active/tcp/receive', a?.tcp?.receive],
  ] as const;
  for (const [at, p] of payloads)
    if (
      p &&
      (p.type === 'Text'
        ? p.text === undefined || p.binary !== undefined
        : p.binary === undefined || p.text !== undefined)
    )
      problems.push({
        field: `${field}/${at}`,
        message: 'a Text payload needs text, a Binary payload needs binary (base64), not both',
      });
  return problems;
}
