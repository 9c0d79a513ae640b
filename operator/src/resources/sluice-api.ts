/**
 * Sluice's own API, group `sluice.dev`, version `v1alpha1`. These TypeBox schemas are the one source
 * for validation here and (with the packaging issue) for the generated CRDs.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import {
  BudgetMatchSchema,
  BudgetMeasureSchema,
  BudgetPerSchema,
  BudgetWindowSchema,
} from '../../../proxy/src/config/budgets.ts';
import { BUILTIN_DETECTORS, GUARD_ACTIONS } from '../../../proxy/src/config/guards.ts';
import { guardPatternProblem } from '../../../proxy/src/config/user-regex.ts';
import { ObjectMetaSchema } from './meta.ts';

/** A URL whose authority carries `user:password@`. */
const USERINFO_URL = '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*@';
const USERINFO_MESSAGE =
  'endpoint.url must not carry credentials (user:password@); put them in a Secret and name it in credentialsRef';
const JWT_KEYS_RULE = 'has(self.jwks) != has(self.jwksUri)';
const JWT_KEYS_MESSAGE = 'identity.jwt needs exactly one of jwks and jwksUri';

/** A Gateway API rule name (a policy's sectionName), as the Gateway API CRDs constrain it. */
const RuleName = T.String({ minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' });

export const SLUICE_GROUP = 'sluice.dev';
export const SLUICE_API_VERSION = `${SLUICE_GROUP}/v1alpha1`;

const Duration = T.String({ pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' });
const ModelName = T.String({ minLength: 1, maxLength: 256 });
const Usd = T.Number({ minimum: 0 });

export const AITargetSpecSchema = T.Object(
  {
    name: T.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
    provider: T.Union([
      T.Literal('OpenAI'),
      T.Literal('AzureOpenAI'),
      T.Literal('Anthropic'),
      T.Literal('Gemini'),
      T.Literal('VertexAI'),
      T.Literal('Bedrock'),
      T.Literal('OpenAICompatible'),
    ]),
    /** Lower is tried first (default 0); weights split traffic inside a priority (default 1). */
    priority: T.Optional(T.Integer({ minimum: 0, maximum: 1000 })),
    weight: T.Optional(T.Integer({ minimum: 0, maximum: 1_000_000 })),
    /** Either a URL, or an in-cluster Service (same namespace) reached through cluster DNS. */
    endpoint: T.Union([
      T.Object(
        { url: T.String({ pattern: '^https?://[^\\s]+$', maxLength: 2048 }) },
        {
          additionalProperties: false,
          // The same rule aiBackendProblems applies. On the object, not the string: the API server
          // repeats a failing string in its error, and this one holds a password.
          'x-kubernetes-validations': [
            { rule: `!has(self.url) || !self.url.matches('${USERINFO_URL}')`, message: USERINFO_MESSAGE },
          ],
        },
      ),
      T.Object(
        {
          serviceRef: T.Object(
            { name: T.String({ minLength: 1 }), port: T.Integer({ minimum: 1, maximum: 65535 }) },
            { additionalProperties: false },
          ),
          /** API path prefix on the Service, e.g. `/v1`. */
          path: T.Optional(T.String({ pattern: '^/', maxLength: 1024 })),
          scheme: T.Optional(T.Union([T.Literal('http'), T.Literal('https')])),
        },
        { additionalProperties: false },
      ),
    ]),
    /** A key of a Secret in the AIBackend's namespace holding the provider API key. */
    credentialsRef: T.Optional(
      T.Object(
        { name: T.String({ minLength: 1 }), key: T.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
    model: T.Optional(ModelName),
    modelMap: T.Optional(T.Record(T.String(), ModelName)),
    azure: T.Optional(
      T.Object(
        { deployment: T.Optional(ModelName), apiVersion: T.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
    anthropic: T.Optional(
      T.Object(
        {
          version: T.Optional(T.String({ minLength: 1 })),
          defaultMaxTokens: T.Optional(T.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    bedrock: T.Optional(
      T.Object(
        { region: T.String({ pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$', maxLength: 32 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const AIBackendSchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('AIBackend'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      models: T.Optional(T.Array(ModelName, { maxItems: 256 })),
      targets: T.Array(AITargetSpecSchema, { minItems: 1, maxItems: 32 }),
      pricing: T.Optional(
        T.Array(
          T.Object(
            {
              model: ModelName,
              inputPerMillion: Usd,
              cachedInputPerMillion: T.Optional(Usd),
              cacheWriteInputPerMillion: T.Optional(Usd),
              outputPerMillion: Usd,
              reasoningPerMillion: T.Optional(Usd),
            },
            { additionalProperties: false },
          ),
        ),
      ),
      timeouts: T.Optional(
        T.Object(
          {
            request: T.Optional(Duration),
            firstToken: T.Optional(Duration),
            streamIdle: T.Optional(Duration),
          },
          { additionalProperties: false },
        ),
      ),
      retry: T.Optional(
        T.Object(
          { attempts: T.Optional(T.Integer({ minimum: 1, maximum: 10 })) },
          { additionalProperties: false },
        ),
      ),
      cooldown: T.Optional(
        T.Object(
          { consecutiveFailures: T.Optional(T.Integer({ minimum: 1 })), duration: T.Optional(Duration) },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
});

export type AIBackend = Static<typeof AIBackendSchema>;
export type AITargetSpec = Static<typeof AITargetSpecSchema>;

/** Defaults applied by the translator (and, later, by the CRD schema). */
export const AI_DEFAULTS = {
  requestTimeout: '300s',
  retryAttempts: 3,
  cooldownFailures: 3,
  cooldownDuration: '30s',
  anthropicVersion: '2023-06-01',
  anthropicMaxTokens: 4096,
  defaultMaxOutputTokens: 1024,
} as const;

const PolicyTargetRef = T.Object(
  {
    group: T.Union([T.Literal('gateway.networking.k8s.io'), T.Literal(SLUICE_GROUP)]),
    kind: T.Union([T.Literal('Gateway'), T.Literal('HTTPRoute'), T.Literal('AIBackend')]),
    name: T.String({ minLength: 1, maxLength: 253 }),
    /** With an HTTPRoute: the name of one of its rules, to target that rule only. */
    sectionName: T.Optional(RuleName),
  },
  { additionalProperties: false },
);

export const TokenRateLimitPolicySchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('TokenRateLimitPolicy'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      targetRefs: T.Array(PolicyTargetRef, { minItems: 1, maxItems: 16 }),
      identity: T.Optional(
        T.Object(
          {
            /** Secrets in the policy's namespace, each with keys `api-key`, `consumer` and `team`. */
            apiKeys: T.Optional(
              T.Array(T.Object({ secretRef: T.Object({ name: T.String({ minLength: 1 }) }) })),
            ),
            /**
             * Bearer JWTs verified against the issuer's public keys: inline (`jwks`) or fetched from
             * `jwksUri` and cached; claims name consumer and team.
             */
            jwt: T.Optional(
              T.Object(
                {
                  issuer: T.Optional(T.String()),
                  audiences: T.Optional(T.Array(T.String())),
                  jwks: T.Optional(
                    T.Object({ keys: T.Array(T.Record(T.String(), T.Unknown()), { minItems: 1 }) }),
                  ),
                  jwksUri: T.Optional(
                    T.String({ pattern: '^https?://[^/?#@]+([/?#].*)?$', maxLength: 2048 }),
                  ),
                  consumerClaim: T.Optional(T.String({ minLength: 1 })),
                  teamClaim: T.Optional(T.String({ minLength: 1 })),
                },
                {
                  additionalProperties: false,
                  'x-kubernetes-validations': [{ rule: JWT_KEYS_RULE, message: JWT_KEYS_MESSAGE }],
                },
              ),
            ),
            trustedHeaders: T.Optional(
              T.Object(
                { consumer: T.String({ minLength: 1 }), team: T.Optional(T.String({ minLength: 1 })) },
                { additionalProperties: false },
              ),
            ),
            /** Refuse anonymous callers on the targets (401); default true when identity is configured. */
            required: T.Optional(T.Boolean()),
          },
          { additionalProperties: false },
        ),
      ),
      shadow: T.Optional(T.Boolean()),
      failureMode: T.Optional(T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')])),
      defaultMaxOutputTokens: T.Optional(T.Integer({ minimum: 0 })),
      limits: T.Array(
        T.Object(
          {
            name: T.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
            per: T.Optional(BudgetPerSchema),
            /** With `per: Header`: the header whose value keys the budget. */
            perHeader: T.Optional(T.String({ minLength: 1 })),
            match: T.Optional(BudgetMatchSchema),
            measure: BudgetMeasureSchema,
            amount: T.Number({ exclusiveMinimum: 0 }),
            window: BudgetWindowSchema,
          },
          {
            additionalProperties: false,
            // The same rule tokenRateLimitPolicyProblems applies, enforced by the API server.
            'x-kubernetes-validations': [
              {
                rule: "has(self.per) && self.per == 'Header' ? has(self.perHeader) : !has(self.perHeader)",
                message: 'perHeader is required with per: Header and only valid with it',
              },
            ],
          },
        ),
        // A list map keyed by name: the API server refuses duplicate limit names.
        {
          minItems: 1,
          maxItems: 32,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
        },
      ),
    },
    { additionalProperties: false },
  ),
});

export type TokenRateLimitPolicy = Static<typeof TokenRateLimitPolicySchema>;

/** Cross-field checks for the file provider; the CRD enforces the same with CEL and a list map. */
export function aiBackendProblems(b: AIBackend): { field: string; message: string }[] {
  return b.spec.targets.flatMap((t, i) =>
    'url' in t.endpoint && new RegExp(USERINFO_URL).test(t.endpoint.url)
      ? [{ field: `/spec/targets/${i}/endpoint/url`, message: USERINFO_MESSAGE }]
      : [],
  );
}

export function tokenRateLimitPolicyProblems(p: TokenRateLimitPolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  p.spec.limits.forEach((l, i) => {
    if (l.per === 'Header' && !l.perHeader)
      problems.push({
        field: `/spec/limits/${i}/perHeader`,
        message: 'per: Header needs perHeader (the header to key budgets by)',
      });
    if (l.per !== 'Header' && l.perHeader)
      problems.push({
        field: `/spec/limits/${i}/perHeader`,
        message: 'perHeader is only meaningful with per: Header',
      });
  });
  const jwt = p.spec.identity?.jwt;
  if (jwt && (jwt.jwks === undefined) === (jwt.jwksUri === undefined))
    problems.push({ field: '/spec/identity/jwt', message: JWT_KEYS_MESSAGE });
  const names = p.spec.limits.map((l) => l.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i)
      problems.push({ field: `/spec/limits/${i}/name`, message: `duplicate limit name ${n}` });
  });
  return problems;
}

export const PromptGuardSchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('PromptGuard'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      /** Gateways or HTTPRoutes guarded; a rule can also reference the guard with an ExtensionRef filter. */
      targetRefs: T.Optional(
        T.Array(
          T.Object(
            {
              group: T.Literal('gateway.networking.k8s.io'),
              kind: T.Union([T.Literal('Gateway'), T.Literal('HTTPRoute')]),
              name: T.String({ minLength: 1, maxLength: 253 }),
              /** With an HTTPRoute: the name of one of its rules, to guard that rule only. */
              sectionName: T.Optional(RuleName),
            },
            { additionalProperties: false },
          ),
          { maxItems: 16 },
        ),
      ),
      /** Roles whose texts are checked (default: every role — user, system, assistant, tool). */
      roles: T.Optional(T.Array(T.String({ minLength: 1 }), { minItems: 1 })),
      request: T.Optional(
        T.Object(
          {
            builtins: T.Optional(
              T.Array(
                T.Object(
                  {
                    detector: T.Union(BUILTIN_DETECTORS.map((d) => T.Literal(d))),
                    action: T.Union(GUARD_ACTIONS.map((a) => T.Literal(a))),
                  },
                  { additionalProperties: false },
                ),
              ),
            ),
            regexes: T.Optional(
              T.Array(
                T.Object(
                  {
                    name: T.String({ minLength: 1, maxLength: 63 }),
                    pattern: T.String({
                      minLength: 1,
                      maxLength: 1024,
                      // The API server refuses lookaround at admission (plain `contains`, which its CEL
                      // cost budget allows on a list of patterns); promptGuardProblems names the rest.
                      'x-kubernetes-validations': [
                        {
                          rule: "!(self.contains('(?=') || self.contains('(?!') || self.contains('(?<=') || self.contains('(?<!'))",
                          message: 'lookahead and lookbehind are not supported: patterns use RE2 syntax',
                        },
                      ],
                    }),
                    action: T.Union(GUARD_ACTIONS.map((a) => T.Literal(a))),
                    replacement: T.Optional(T.String()),
                    maxLength: T.Optional(T.Integer({ minimum: 1, maximum: 65_536 })),
                  },
                  { additionalProperties: false },
                ),
                { maxItems: 64 },
              ),
            ),
            /** An external guard service: POST of the checked messages, answer allow / deny / mask. */
            webhook: T.Optional(
              T.Object(
                {
                  url: T.String({ pattern: '^https?://' }),
                  timeout: T.Optional(T.String({ pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' })),
                  failureMode: T.Optional(T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')])),
                },
                { additionalProperties: false },
              ),
            ),
            /** An OpenAI-compatible /moderations endpoint: an AIBackend of this namespace. */
            moderation: T.Optional(
              T.Object(
                {
                  aiBackendRef: T.Object(
                    { name: T.String({ minLength: 1 }) },
                    { additionalProperties: false },
                  ),
                  model: T.Optional(T.String({ minLength: 1 })),
                  categories: T.Optional(T.Array(T.String({ minLength: 1 }))),
                  threshold: T.Optional(T.Number({ minimum: 0, maximum: 1 })),
                  timeout: T.Optional(T.String({ pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' })),
                  failureMode: T.Optional(T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')])),
                },
                { additionalProperties: false },
              ),
            ),
            denyList: T.Optional(
              T.Object(
                {
                  phrases: T.Array(T.String({ minLength: 1 }), { minItems: 1 }),
                  action: T.Optional(T.Union([T.Literal('Reject'), T.Literal('Audit')])),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      response: T.Optional(T.Object({ mask: T.Optional(T.Boolean()) }, { additionalProperties: false })),
      rejection: T.Optional(
        T.Object(
          {
            status: T.Optional(T.Integer({ minimum: 400, maximum: 499 })),
            message: T.Optional(T.String({ minLength: 1 })),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
});

export type PromptGuard = Static<typeof PromptGuardSchema>;

/** Custom patterns must be RE2 (linear-time) expressions; checked when the object is loaded. */
export function promptGuardProblems(g: PromptGuard): { field: string; message: string }[] {
  return (g.spec.request?.regexes ?? []).flatMap((r, i) => {
    const problem = guardPatternProblem(r.pattern);
    return problem ? [{ field: `/spec/request/regexes/${i}/pattern`, message: problem }] : [];
  });
}
