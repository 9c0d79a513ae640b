/**
 * Client identity and token-cost budgets in the proxy config contract. API keys are named (Secret and
 * key), never inlined; the proxy reads their values from the secrets delivered beside the config.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { Name } from './names.ts';
import { RouteTargetSchema } from './route-ref.ts';

export const JwtSchema = T.Object(
  {
    issuer: T.Optional(T.String()),
    audiences: T.Optional(T.Array(T.String())),
    /** Public JSON Web Keys (RSA, EC or OKP), inline; or `jwksUri`, never both. */
    jwks: T.Optional(T.Array(T.Record(T.String(), T.Unknown()), { minItems: 1 })),
    /** The issuer's JWKS endpoint (https, or http on loopback), fetched and cached by the proxy. */
    jwksUri: T.Optional(T.String({ pattern: '^https?://[^/?#@]+([/?#].*)?$', maxLength: 2048 })),
    consumerClaim: Name,
    teamClaim: T.Optional(Name),
  },
  { additionalProperties: false },
);

export const IdentitySchema = T.Object(
  {
    apiKeys: T.Array(
      T.Object(
        {
          consumer: Name,
          team: T.String(),
          credentials: T.Object({ secret: Name, key: Name }, { additionalProperties: false }),
        },
        { additionalProperties: false },
      ),
    ),
    /** Bearer JWTs verified against public keys; the claims name the consumer and team. */
    jwt: T.Optional(JwtSchema),
    /** Headers set by a trusted authenticator in front of Sluice. */
    trustedHeaders: T.Optional(
      T.Object({ consumer: Name, team: T.Optional(Name) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

/** Budget vocabulary shared by the proxy config and the TokenRateLimitPolicy CRD. */
export const BudgetPerSchema = T.Union(
  (['Global', 'Consumer', 'Team', 'Model', 'Header'] as const).map((p) => T.Literal(p)),
);
export const BudgetMeasureSchema = T.Union(
  (['InputTokens', 'OutputTokens', 'TotalTokens', 'CostUSD', 'Requests'] as const).map((m) => T.Literal(m)),
);
export const BudgetWindowSchema = T.Union(
  (['Minute', 'Hour', 'Day', 'Month'] as const).map((w) => T.Literal(w)),
);
export const BudgetMatchSchema = T.Object(
  {
    consumers: T.Optional(T.Array(T.String())),
    teams: T.Optional(T.Array(T.String())),
    models: T.Optional(T.Array(T.String())),
    header: T.Optional(
      T.Object(
        { name: T.String({ minLength: 1 }), values: T.Array(T.String(), { minItems: 1 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const BudgetLimitSchema = T.Object(
  {
    /** `namespace/policy/limit`: the budget's identity in counters, metrics and headers. */
    name: Name,
    /** Which requests it applies to: a whole Gateway, a route or one rule of it, or an AI backend. */
    scope: T.Union([
      T.Object({ kind: T.Literal('Gateway') }, { additionalProperties: false }),
      T.Object({ kind: T.Literal('Route'), route: RouteTargetSchema }, { additionalProperties: false }),
      T.Object({ kind: T.Literal('AIBackend'), aiBackend: Name }, { additionalProperties: false }),
    ]),
    /** Separate budgets per value of this key. */
    per: BudgetPerSchema,
    perHeader: T.Optional(Name),
    match: BudgetMatchSchema,
    measure: BudgetMeasureSchema,
    amount: T.Number({ exclusiveMinimum: 0 }),
    window: BudgetWindowSchema,
    shadow: T.Boolean(),
    failureMode: T.Union([T.Literal('FailOpen'), T.Literal('FailClosed')]),
    requireIdentity: T.Boolean(),
    /** Output tokens assumed at admission when the request sets no max_tokens. */
    defaultMaxOutputTokens: T.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);

export type IdentityConfig = Static<typeof IdentitySchema>;
export type JwtConfig = Static<typeof JwtSchema>;
export type BudgetLimit = Static<typeof BudgetLimitSchema>;
