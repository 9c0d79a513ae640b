/**
 * Who may call a route, in the proxy config contract: the effective SecurityPolicy of a route after
 * the translator has resolved attachment and precedence (each part names the policy it came from,
 * for metrics and logs). Credentials are named by Secret and key, never inlined.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { JwtSchema } from './budgets.ts';
import { Name } from './names.ts';

const SecretKey = T.Object({ secret: Name, key: Name }, { additionalProperties: false });
const Strings = T.Array(T.String());

/** Cross-origin rules of a route (SecurityPolicy `cors` or the HTTPRoute CORS filter). */
export const CorsSchema = T.Object(
  {
    /** `*`, exact origins, or patterns where `*` stands for any run of characters. */
    allowOrigins: Strings,
    allowMethods: Strings,
    allowHeaders: Strings,
    exposeHeaders: Strings,
    maxAgeSeconds: T.Optional(T.Integer({ minimum: 0 })),
    allowCredentials: T.Boolean(),
  },
  { additionalProperties: false },
);

/** Where a credential is read from; the first source that has one is used. */
export const CredentialSourceSchema = T.Object(
  {
    headers: T.Optional(
      T.Array(T.Object({ name: Name, valuePrefix: T.Optional(T.String()) }, { additionalProperties: false })),
    ),
    params: T.Optional(Strings),
    cookies: T.Optional(Strings),
  },
  { additionalProperties: false },
);

const Policy = Name;

export const ApiKeyAuthSchema = T.Object(
  {
    policy: Policy,
    /** One entry per client: its ID (the consumer), its team, and where its key is. */
    clients: T.Array(
      T.Object({ clientId: Name, team: T.String(), credentials: SecretKey }, { additionalProperties: false }),
    ),
    extractFrom: T.Array(CredentialSourceSchema, { minItems: 1 }),
    forwardClientIDHeader: T.Optional(Name),
    /** Remove the key from the request before it goes upstream. */
    sanitize: T.Boolean(),
  },
  { additionalProperties: false },
);

export const BasicAuthSchema = T.Object(
  {
    policy: Policy,
    /** The htpasswd file: one `user:hash` per line. */
    users: SecretKey,
    team: T.String(),
    forwardUsernameHeader: T.Optional(Name),
  },
  { additionalProperties: false },
);

export const JwtProviderSchema = T.Composite(
  [
    T.Object({ name: Name }),
    JwtSchema,
    T.Object({
      cacheMs: T.Optional(T.Integer({ minimum: 1 })),
      timeoutMs: T.Optional(T.Integer({ minimum: 1 })),
      claimToHeaders: T.Array(T.Object({ header: Name, claim: Name }, { additionalProperties: false })),
      /** Default: `Authorization: Bearer …`, then the `access_token` query parameter. */
      extractFrom: T.Optional(CredentialSourceSchema),
    }),
  ],
  { additionalProperties: false },
);

export const JwtAuthSchema = T.Object(
  { policy: Policy, optional: T.Boolean(), providers: T.Array(JwtProviderSchema, { minItems: 1 }) },
  { additionalProperties: false },
);

/** OpenID Connect login for browsers: the authorization-code flow with PKCE, sessions in a cookie. */
export const OidcSchema = T.Object(
  {
    policy: Policy,
    issuer: T.String({ pattern: '^https?://', maxLength: 2048 }),
    /** Endpoints that override what discovery (`/.well-known/openid-configuration`) says. */
    authorizationEndpoint: T.Optional(T.String({ pattern: '^https?://', maxLength: 2048 })),
    tokenEndpoint: T.Optional(T.String({ pattern: '^https?://', maxLength: 2048 })),
    clientId: T.String({ minLength: 1 }),
    clientSecret: SecretKey,
    scopes: Strings,
    /** Where the provider sends the browser back: an absolute URL, or a path on the request's own host. */
    redirectUrl: T.String({ minLength: 1, maxLength: 2048 }),
    logoutPath: T.String({ pattern: '^/', maxLength: 1024 }),
    forwardAccessToken: T.Boolean(),
    refreshToken: T.Boolean(),
    consumerClaim: Name,
    teamClaim: T.Optional(Name),
  },
  { additionalProperties: false },
);

export const AuthorizationRuleSchema = T.Object(
  {
    name: Name,
    action: T.Union([T.Literal('Allow'), T.Literal('Deny')]),
    clientCIDRs: T.Optional(Strings),
    jwt: T.Optional(
      T.Object(
        {
          provider: Name,
          scopes: T.Optional(Strings),
          claims: T.Optional(
            T.Array(T.Object({ name: Name, values: Strings }, { additionalProperties: false })),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    headers: T.Optional(T.Array(T.Object({ name: Name, values: Strings }, { additionalProperties: false }))),
    methods: T.Optional(Strings),
    paths: T.Optional(Strings),
  },
  { additionalProperties: false },
);

export const AuthorizationSchema = T.Object(
  {
    policy: Policy,
    defaultAction: T.Union([T.Literal('Allow'), T.Literal('Deny')]),
    rules: T.Array(AuthorizationRuleSchema),
  },
  { additionalProperties: false },
);

export const ExtAuthSchema = T.Object(
  {
    policy: Policy,
    /** HTTP (Envoy's ext_authz HTTP service semantics) or GRPC (envoy.service.auth.v3.Authorization). */
    protocol: T.Union([T.Literal('HTTP'), T.Literal('GRPC')]),
    /** The authorizer, as a cluster of the config. */
    cluster: Name,
    /** HTTP: prefix of the check request's path. */
    pathPrefix: T.String(),
    headersToExtAuth: Strings,
    headersToBackend: Strings,
    timeoutMs: T.Integer({ minimum: 1 }),
    failOpen: T.Boolean(),
  },
  { additionalProperties: false },
);

export const SecuritySchema = T.Object(
  {
    /** How routes refer to it: the policies it was assembled from, joined. */
    name: Name,
    /** A policy that could not be applied as written: its routes refuse every request (fail closed). */
    invalid: T.Optional(T.Object({ policy: Policy, reason: T.String() }, { additionalProperties: false })),
    apiKeyAuth: T.Optional(ApiKeyAuthSchema),
    basicAuth: T.Optional(BasicAuthSchema),
    jwt: T.Optional(JwtAuthSchema),
    oidc: T.Optional(OidcSchema),
    authorization: T.Optional(AuthorizationSchema),
    extAuth: T.Optional(ExtAuthSchema),
  },
  { additionalProperties: false },
);

export type Cors = Static<typeof CorsSchema>;
export type CredentialSource = Static<typeof CredentialSourceSchema>;
export type ApiKeyAuth = Static<typeof ApiKeyAuthSchema>;
export type BasicAuth = Static<typeof BasicAuthSchema>;
export type JwtProvider = Static<typeof JwtProviderSchema>;
export type JwtAuth = Static<typeof JwtAuthSchema>;
export type Oidc = Static<typeof OidcSchema>;
export type AuthorizationRule = Static<typeof AuthorizationRuleSchema>;
export type Authorization = Static<typeof AuthorizationSchema>;
export type ExtAuth = Static<typeof ExtAuthSchema>;
export type Security = Static<typeof SecuritySchema>;
