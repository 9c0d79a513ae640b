/**
 * SecurityPolicy (`sluice.dev/v1alpha1`): who may call a route. Field names follow Envoy Gateway's
 * SecurityPolicy where they fit, so its users migrate by changing the API group.
 */
import { type Static, Type as T } from '@sinclair/typebox';
import { isCidr } from '../../../proxy/src/config/cidr.ts';
import { ObjectMetaSchema } from './meta.ts';
import {
  Cidr,
  Duration,
  HeaderName,
  ObjectName,
  RouteTargetKind,
  targetFields,
  targetRequiredRule,
} from './policy-targets.ts';
import { SLUICE_API_VERSION } from './sluice-api.ts';

/** Where a credential is read from: exactly one of header names, query parameters or cookies. */
const ExtractFrom = T.Object(
  {
    headers: T.Optional(T.Array(HeaderName, { minItems: 1, maxItems: 8 })),
    params: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 8 })),
    cookies: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 8 })),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: '(has(self.headers) ? 1 : 0) + (has(self.params) ? 1 : 0) + (has(self.cookies) ? 1 : 0) == 1',
        message: 'exactly one of headers, params or cookies must be specified',
      },
    ],
  },
);

const SecretRef = T.Object(
  {
    group: T.Optional(T.Literal('')),
    kind: T.Optional(T.Literal('Secret')),
    name: ObjectName,
  },
  { additionalProperties: false },
);

export const CorsSpecSchema = T.Object(
  {
    /** Exact origins (`https://app.example.com`), wildcards (`https://*.example.com`) or `*`. */
    allowOrigins: T.Array(
      T.String({ minLength: 1, maxLength: 253, pattern: '^(\\*|[a-z][a-z0-9+.-]*://[^/?#]+)$' }),
      {
        minItems: 1,
        maxItems: 64,
      },
    ),
    allowMethods: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 32 }), { maxItems: 16 })),
    allowHeaders: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 64 })),
    exposeHeaders: T.Optional(T.Array(HeaderName, { maxItems: 64 })),
    maxAge: T.Optional(Duration),
    allowCredentials: T.Optional(T.Boolean()),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: "!(has(self.allowCredentials) && self.allowCredentials && self.allowOrigins.exists(o, o == '*'))",
        message: 'allowCredentials cannot be combined with the * origin (browsers refuse it)',
      },
    ],
  },
);

const ApiKeyAuthSpec = T.Object(
  {
    /** Opaque Secrets: each key is a client ID, its value that client's API key. */
    credentialRefs: T.Array(SecretRef, { minItems: 1, maxItems: 16 }),
    extractFrom: T.Array(ExtractFrom, { minItems: 1, maxItems: 4 }),
    forwardClientIDHeader: T.Optional(HeaderName),
    sanitize: T.Optional(T.Boolean()),
  },
  { additionalProperties: false },
);

const BasicAuthSpec = T.Object(
  {
    /** A Secret whose `.htpasswd` key holds `user:hash` lines (bcrypt `$2y$`/`$2a$`/`$2b$` or `{SHA}`). */
    users: SecretRef,
    forwardUsernameHeader: T.Optional(HeaderName),
  },
  { additionalProperties: false },
);

const JwtProviderSpec = T.Object(
  {
    name: T.String({ minLength: 1, maxLength: 253 }),
    issuer: T.Optional(T.String({ maxLength: 253 })),
    audiences: T.Optional(T.Array(T.String({ minLength: 1 }), { maxItems: 8 })),
    remoteJWKS: T.Optional(
      T.Object(
        {
          uri: T.String({ pattern: '^https?://[^/?#@]+([/?#].*)?$', maxLength: 2048 }),
          /** How long fetched keys are trusted before they are fetched again (default 5m). */
          cacheDuration: T.Optional(Duration),
          /** How long one fetch may take (default 5s). */
          timeout: T.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    localJWKS: T.Optional(
      T.Object(
        { type: T.Optional(T.Literal('Inline')), inline: T.String({ minLength: 2, maxLength: 65536 }) },
        { additionalProperties: false },
      ),
    ),
    claimToHeaders: T.Optional(
      T.Array(
        T.Object(
          { header: HeaderName, claim: T.String({ minLength: 1, maxLength: 256 }) },
          { additionalProperties: false },
        ),
        { maxItems: 16 },
      ),
    ),
    extractFrom: T.Optional(
      T.Object(
        {
          headers: T.Optional(
            T.Array(
              T.Object(
                { name: HeaderName, valuePrefix: T.Optional(T.String({ maxLength: 64 })) },
                { additionalProperties: false },
              ),
              { maxItems: 8 },
            ),
          ),
          cookies: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 8 })),
          params: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 8 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Sluice: the claim naming the consumer budgets and logs key on (default `sub`). */
    consumerClaim: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
    /** Sluice: the claim naming the caller's team. */
    teamClaim: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'has(self.remoteJWKS) != has(self.localJWKS)',
        message: 'exactly one of remoteJWKS and localJWKS must be specified',
      },
    ],
  },
);

const JwtSpec = T.Object(
  {
    /** A request without a token passes unauthenticated; an invalid token is still refused. */
    optional: T.Optional(T.Boolean()),
    providers: T.Array(JwtProviderSpec, {
      minItems: 1,
      maxItems: 4,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  },
  { additionalProperties: false },
);

const HttpUrl = T.String({ pattern: '^https?://[^/?#@]+([/?#].*)?$', maxLength: 2048 });

const OidcSpec = T.Object(
  {
    provider: T.Object(
      {
        /** Its metadata is discovered at `{issuer}/.well-known/openid-configuration`. */
        issuer: HttpUrl,
        authorizationEndpoint: T.Optional(HttpUrl),
        tokenEndpoint: T.Optional(HttpUrl),
      },
      { additionalProperties: false },
    ),
    clientID: T.String({ minLength: 1, maxLength: 512 }),
    /** A Secret whose `client-secret` key holds the client secret. */
    clientSecret: SecretRef,
    scopes: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 16 })),
    redirectURL: T.Optional(T.String({ pattern: '^(/|https?://[^/?#@]+/)[^?#]*$', maxLength: 2048 })),
    logoutPath: T.Optional(T.String({ pattern: '^/', maxLength: 1024 })),
    forwardAccessToken: T.Optional(T.Boolean()),
    refreshToken: T.Optional(T.Boolean()),
    consumerClaim: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
    teamClaim: T.Optional(T.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

const Action = T.Union([T.Literal('Allow'), T.Literal('Deny')]);

const PrincipalSpec = T.Object(
  {
    clientCIDRs: T.Optional(
      T.Array(Cidr, {
        minItems: 1,
        maxItems: 256,
        'x-kubernetes-validations': [
          { rule: 'self.all(c, isCIDR(c))', message: 'clientCIDRs must be IPv4 or IPv6 CIDRs' },
        ],
      }),
    ),
    jwt: T.Optional(
      T.Object(
        {
          provider: T.String({ minLength: 1, maxLength: 253 }),
          scopes: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 256 }), { maxItems: 16 })),
          claims: T.Optional(
            T.Array(
              T.Object(
                {
                  name: T.String({ minLength: 1, maxLength: 256 }),
                  valueType: T.Optional(T.Union([T.Literal('String'), T.Literal('StringArray')])),
                  values: T.Array(T.String(), { minItems: 1, maxItems: 16 }),
                },
                { additionalProperties: false },
              ),
              { maxItems: 16 },
            ),
          ),
        },
        {
          additionalProperties: false,
          'x-kubernetes-validations': [
            {
              rule: 'has(self.scopes) || has(self.claims)',
              message: 'a jwt principal needs scopes or claims',
            },
          ],
        },
      ),
    ),
    headers: T.Optional(
      T.Array(
        T.Object(
          { name: HeaderName, values: T.Array(T.String(), { minItems: 1, maxItems: 16 }) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 16 },
      ),
    ),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      {
        rule: 'has(self.clientCIDRs) || has(self.jwt) || has(self.headers)',
        message: 'a principal needs clientCIDRs, jwt or headers',
      },
    ],
  },
);

const AuthorizationSpec = T.Object(
  {
    /** What happens when no rule matches (default Deny). */
    defaultAction: T.Optional(Action),
    rules: T.Optional(
      T.Array(
        T.Object(
          {
            name: T.Optional(T.String({ minLength: 1, maxLength: 253 })),
            action: Action,
            principal: PrincipalSpec,
            operation: T.Optional(
              T.Object(
                {
                  methods: T.Optional(
                    T.Array(T.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 16 }),
                  ),
                  /** Path prefixes (`/admin`), matched on segment boundaries. */
                  paths: T.Optional(
                    T.Array(T.String({ pattern: '^/', maxLength: 1024 }), { minItems: 1, maxItems: 16 }),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 64 },
      ),
    ),
  },
  { additionalProperties: false },
);

const BackendRef = T.Object(
  {
    group: T.Optional(T.Literal('')),
    kind: T.Optional(T.Literal('Service')),
    name: ObjectName,
    namespace: T.Optional(ObjectName),
    port: T.Integer({ minimum: 1, maximum: 65535 }),
  },
  { additionalProperties: false },
);

const ExtAuthSpec = T.Object(
  {
    /** Envoy's gRPC authorization API (envoy.service.auth.v3.Authorization/Check), e.g. OPA's Envoy plugin. */
    grpc: T.Optional(
      T.Object(
        { backendRefs: T.Array(BackendRef, { minItems: 1, maxItems: 1 }) },
        { additionalProperties: false },
      ),
    ),
    http: T.Optional(
      T.Object(
        {
          backendRefs: T.Array(BackendRef, { minItems: 1, maxItems: 1 }),
          /** Path prefix of the check request; the client's path is appended (default `/`). */
          path: T.Optional(T.String({ pattern: '^/', maxLength: 1024 })),
          /** Headers of the authorizer's 2xx answer copied onto the request sent upstream. */
          headersToBackend: T.Optional(T.Array(HeaderName, { maxItems: 32 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Client request headers sent to the authorizer (default: none beyond the request line and Host). */
    headersToExtAuth: T.Optional(T.Array(HeaderName, { maxItems: 32 })),
    /** How long a check may take before the request fails (or passes, with failOpen); default 10s. */
    timeout: T.Optional(Duration),
    /** Let requests through when the authorizer cannot be reached or answers 5xx. */
    failOpen: T.Optional(T.Boolean()),
  },
  {
    additionalProperties: false,
    'x-kubernetes-validations': [
      { rule: 'has(self.http) != has(self.grpc)', message: 'extAuth needs exactly one of http and grpc' },
    ],
  },
);

export const SecurityPolicySchema = T.Object({
  apiVersion: T.Literal(SLUICE_API_VERSION),
  kind: T.Literal('SecurityPolicy'),
  metadata: ObjectMetaSchema,
  spec: T.Object(
    {
      ...targetFields(RouteTargetKind),
      cors: T.Optional(CorsSpecSchema),
      apiKeyAuth: T.Optional(ApiKeyAuthSpec),
      basicAuth: T.Optional(BasicAuthSpec),
      jwt: T.Optional(JwtSpec),
      oidc: T.Optional(OidcSpec),
      authorization: T.Optional(AuthorizationSpec),
      extAuth: T.Optional(ExtAuthSpec),
    },
    {
      additionalProperties: false,
      'x-kubernetes-validations': [
        targetRequiredRule('SecurityPolicy'),
        {
          rule: '!has(self.authorization) || !has(self.authorization.rules) || self.authorization.rules.all(r, !has(r.principal.jwt) || (has(self.jwt) && self.jwt.providers.exists(p, p.name == r.principal.jwt.provider)))',
          message: 'an authorization rule names a jwt provider this policy does not define',
        },
      ],
    },
  ),
});

export type SecurityPolicy = Static<typeof SecurityPolicySchema>;
export type CorsSpec = Static<typeof CorsSpecSchema>;

/** The same cross-field rules as the CRD's CEL, for the file provider (which has no API server). */
export function securityPolicyProblems(p: SecurityPolicy): { field: string; message: string }[] {
  const problems: { field: string; message: string }[] = [];
  const spec = p.spec;
  if (!spec.targetRefs?.length && !spec.targetSelectors?.length)
    problems.push({ field: '/spec', message: 'a SecurityPolicy needs targetRefs or targetSelectors' });
  if (spec.cors?.allowCredentials && spec.cors.allowOrigins.includes('*'))
    problems.push({
      field: '/spec/cors',
      message: 'allowCredentials cannot be combined with the * origin (browsers refuse it)',
    });
  const extractors = [
    ...(spec.apiKeyAuth?.extractFrom ?? []).map((e, i) => ({
      e,
      field: `/spec/apiKeyAuth/extractFrom/${i}`,
    })),
  ];
  for (const { e, field } of extractors)
    if ([e.headers, e.params, e.cookies].filter((x) => x !== undefined).length !== 1)
      problems.push({ field, message: 'exactly one of headers, params or cookies must be specified' });
  const providers = spec.jwt?.providers ?? [];
  providers.forEach((provider, i) => {
    if ((provider.remoteJWKS === undefined) === (provider.localJWKS === undefined))
      problems.push({
        field: `/spec/jwt/providers/${i}`,
        message: 'exactly one of remoteJWKS and localJWKS must be specified',
      });
    if (providers.findIndex((q) => q.name === provider.name) !== i)
      problems.push({
        field: `/spec/jwt/providers/${i}/name`,
        message: `duplicate provider name ${provider.name}`,
      });
  });
  if (spec.extAuth && (spec.extAuth.http === undefined) === (spec.extAuth.grpc === undefined))
    problems.push({ field: '/spec/extAuth', message: 'extAuth needs exactly one of http and grpc' });
  (spec.authorization?.rules ?? []).forEach((rule, i) => {
    const principal = rule.principal;
    if (!principal.clientCIDRs && !principal.jwt && !principal.headers)
      problems.push({
        field: `/spec/authorization/rules/${i}/principal`,
        message: 'a principal needs clientCIDRs, jwt or headers',
      });
    for (const [j, cidr] of (principal.clientCIDRs ?? []).entries())
      if (!isCidr(cidr))
        problems.push({
          field: `/spec/authorization/rules/${i}/principal/clientCIDRs/${j}`,
          message: `${cidr} is not an IPv4 or IPv6 CIDR`,
        });
    if (principal.jwt && !principal.jwt.scopes && !principal.jwt.claims)
      problems.push({
        field: `/spec/authorization/rules/${i}/principal/jwt`,
        message: 'a jwt principal needs scopes or claims',
      });
    if (principal.jwt && !providers.some((q) => q.name === principal.jwt!.provider))
      problems.push({
        field: `/spec/authorization/rules/${i}/principal/jwt/provider`,
        message: 'an authorization rule names a jwt provider this policy does not define',
      });
  });
  return problems;
}
