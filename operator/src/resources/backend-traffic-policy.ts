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
      timeout: T.Optional(
        T.Object(
          {
            http: T.Optional(
              T.Object(
                /** The whole request, all retries included (a route's own `timeouts.request` wins). */
                { requestTimeout: T.Optional(Duration) },
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
