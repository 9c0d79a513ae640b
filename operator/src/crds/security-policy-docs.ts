import type { FieldDoc } from './field-doc.ts';

const secretRef = (what: string | undefined): Record<string, FieldDoc> => ({
  ...(what ? { '': { doc: what } } : {}),
  '.group': { doc: 'Core group: empty.', default: '' },
  '.kind': { doc: 'Secret.', default: 'Secret' },
  '.name': { doc: "Secret name, in the policy's namespace." },
});
const prefixed = (prefix: string, docs: Record<string, FieldDoc>) =>
  Object.fromEntries(Object.entries(docs).map(([k, v]) => [`${prefix}${k}`, v]));

/** Field docs of SecurityPolicy (kept apart from the other kinds: it is the largest API). */
export const SECURITY_POLICY_DOCS: Record<string, FieldDoc> = {
  'spec.targetRefs': {
    doc: "Gateways (optionally one listener by sectionName), HTTPRoutes or GRPCRoutes (optionally one named rule) in the policy's namespace.",
  },
  'spec.targetRefs[].group': { doc: 'gateway.networking.k8s.io.' },
  'spec.targetRefs[].kind': { doc: 'Gateway, HTTPRoute or GRPCRoute.' },
  'spec.targetRefs[].name': { doc: 'Name of the target.' },
  'spec.targetRefs[].sectionName': {
    doc: 'A listener name (Gateway) or rule name (route): the policy applies to that part only, and outranks a policy on the whole object.',
  },
  'spec.targetSelectors': { doc: "Targets chosen by labels, in the policy's namespace." },
  'spec.targetSelectors[].group': { doc: 'gateway.networking.k8s.io.', default: 'gateway.networking.k8s.io' },
  'spec.targetSelectors[].kind': { doc: 'Gateway, HTTPRoute or GRPCRoute.' },
  'spec.targetSelectors[].matchLabels': { doc: 'Labels the target must carry (all of them).' },
  'spec.cors': {
    doc: 'Cross-origin resource sharing: preflights are answered by the gateway; allowed origins get CORS headers on every answer.',
  },
  'spec.cors.allowOrigins': {
    doc: 'Exact origins (https://app.example.com), wildcards where * is one or more DNS labels (https://*.example.com), or *.',
  },
  'spec.cors.allowMethods': { doc: 'Methods a preflight may ask for; * allows any.' },
  'spec.cors.allowHeaders': { doc: 'Request headers a preflight may ask for; * allows any.' },
  'spec.cors.exposeHeaders': { doc: 'Response headers scripts may read (Access-Control-Expose-Headers).' },
  'spec.cors.maxAge': { doc: 'How long browsers may cache a preflight answer (Access-Control-Max-Age).' },
  'spec.cors.allowCredentials': {
    doc: 'Allow cookies and credentials; then the origin is echoed, never *, and * in allowOrigins is refused.',
    default: false,
  },
  'spec.apiKeyAuth': {
    doc: 'API keys: each key of the named Secrets is a client ID, its value that client’s key.',
  },
  'spec.apiKeyAuth.credentialRefs': {
    doc: 'Secrets holding the keys; label a Secret sluice.dev/team to name its clients’ team.',
  },
  ...prefixed('spec.apiKeyAuth.credentialRefs[]', secretRef(undefined)),
  'spec.apiKeyAuth.extractFrom': { doc: 'Where the key is read from; the first source that has one wins.' },
  'spec.apiKeyAuth.extractFrom[].headers': {
    doc: 'Header names; from Authorization the key is read after `Bearer ` (how the OpenAI SDK sends it).',
  },
  'spec.apiKeyAuth.extractFrom[].params': { doc: 'Query parameter names.' },
  'spec.apiKeyAuth.extractFrom[].cookies': { doc: 'Cookie names.' },
  'spec.apiKeyAuth.forwardClientIDHeader': {
    doc: 'Header set upstream to the client ID (a client-sent value is replaced).',
  },
  'spec.apiKeyAuth.sanitize': {
    doc: 'Remove the key from the request before it goes upstream.',
    default: false,
  },
  'spec.basicAuth': { doc: 'HTTP Basic authentication against an htpasswd file.' },
  ...prefixed(
    'spec.basicAuth.users',
    secretRef(
      'A Secret whose .htpasswd key holds user:hash lines, bcrypt (htpasswd -B) or {SHA}; other schemes are skipped and named in status. Label it sluice.dev/team to name the users’ team.',
    ),
  ),
  'spec.basicAuth.forwardUsernameHeader': {
    doc: 'Header set upstream to the user name; the Authorization header itself is not forwarded.',
  },
  'spec.jwt': { doc: 'Bearer JSON Web Tokens verified against the issuers’ public keys.' },
  'spec.jwt.optional': {
    doc: 'Let requests without a token through unauthenticated (an invalid token is still refused).',
    default: false,
  },
  'spec.jwt.providers': { doc: 'Issuers; a token is valid when one of them verifies it.' },
  'spec.jwt.providers[].name': {
    doc: 'Provider name, unique in the policy; authorization rules refer to it.',
  },
  'spec.jwt.providers[].issuer': { doc: 'Required iss claim; absent: not checked.' },
  'spec.jwt.providers[].audiences': { doc: 'Accepted aud values (any one); absent: not checked.' },
  'spec.jwt.providers[].remoteJWKS': {
    doc: 'The issuer’s key set, fetched over HTTPS (or HTTP on loopback).',
  },
  'spec.jwt.providers[].remoteJWKS.uri': { doc: 'JWKS URL.' },
  'spec.jwt.providers[].remoteJWKS.cacheDuration': {
    doc: 'How long fetched keys are used before they are fetched again; a token naming an unknown kid triggers a fetch sooner (at most every 30 s, or every cacheDuration if shorter).',
    default: '10m',
  },
  'spec.jwt.providers[].remoteJWKS.timeout': { doc: 'How long one fetch may take.', default: '5s' },
  'spec.jwt.providers[].localJWKS': { doc: 'The public keys inline.' },
  'spec.jwt.providers[].localJWKS.type': { doc: 'Inline.', default: 'Inline' },
  'spec.jwt.providers[].localJWKS.inline': { doc: 'A JWKS document as a string: {"keys": [...]}.' },
  'spec.jwt.providers[].claimToHeaders': {
    doc: 'Claims copied into request headers upstream (a client-sent copy is dropped).',
  },
  'spec.jwt.providers[].claimToHeaders[].header': { doc: 'Header name.' },
  'spec.jwt.providers[].claimToHeaders[].claim': { doc: 'Claim name; dots walk nested claims (realm.role).' },
  'spec.jwt.providers[].extractFrom': {
    doc: 'Where the token is read from; default Authorization: Bearer, then the access_token query parameter.',
  },
  'spec.jwt.providers[].extractFrom.headers': { doc: 'Headers carrying the token.' },
  'spec.jwt.providers[].extractFrom.headers[].name': { doc: 'Header name.' },
  'spec.jwt.providers[].extractFrom.headers[].valuePrefix': {
    doc: 'Prefix before the token, e.g. "Bearer ".',
  },
  'spec.jwt.providers[].extractFrom.cookies': { doc: 'Cookies carrying the token.' },
  'spec.jwt.providers[].extractFrom.params': { doc: 'Query parameters carrying the token.' },
  'spec.jwt.providers[].consumerClaim': {
    doc: 'Sluice: the claim naming the consumer that budgets, cost metrics and logs key on.',
    default: 'sub',
  },
  'spec.jwt.providers[].teamClaim': { doc: 'Sluice: the claim naming the caller’s team.' },
  'spec.oidc': {
    doc: 'OpenID Connect login for browsers: authorization code with PKCE; the session lives in an encrypted cookie.',
  },
  'spec.oidc.provider': { doc: 'The OpenID provider.' },
  'spec.oidc.provider.issuer': {
    doc: 'Issuer URL; endpoints and keys are discovered at {issuer}/.well-known/openid-configuration.',
  },
  'spec.oidc.provider.authorizationEndpoint': { doc: 'Overrides the discovered authorization endpoint.' },
  'spec.oidc.provider.tokenEndpoint': { doc: 'Overrides the discovered token endpoint.' },
  'spec.oidc.clientID': { doc: 'The client registered with the provider.' },
  ...prefixed(
    'spec.oidc.clientSecret',
    secretRef('A Secret whose client-secret key holds the client secret.'),
  ),
  'spec.oidc.scopes': {
    doc: 'Scopes asked for besides openid (always sent), e.g. email, profile, offline_access.',
  },
  'spec.oidc.redirectURL': {
    doc: 'Where the provider sends the browser back: a path on the request’s own host or an absolute URL; the route must match it.',
    default: '/oauth2/callback',
  },
  'spec.oidc.logoutPath': {
    doc: 'A path that ends the session (the cookie is cleared).',
    default: '/logout',
  },
  'spec.oidc.forwardAccessToken': {
    doc: 'Send the access token upstream as Authorization: Bearer.',
    default: false,
  },
  'spec.oidc.refreshToken': {
    doc: 'Renew an expired access token with the refresh token (ask for offline_access to get one).',
    default: true,
  },
  'spec.oidc.consumerClaim': {
    doc: 'Sluice: the ID-token claim naming the consumer budgets and logs key on.',
    default: 'sub',
  },
  'spec.oidc.teamClaim': { doc: 'Sluice: the ID-token claim naming the team.' },
  'spec.authorization': {
    doc: 'Ordered allow/deny rules; rules on client addresses alone are judged before authentication.',
  },
  'spec.authorization.defaultAction': { doc: 'What happens when no rule matches.', default: 'Deny' },
  'spec.authorization.rules': { doc: 'Rules, first match decides.' },
  'spec.authorization.rules[].name': { doc: 'Rule name (defaults to rule-<index>).' },
  'spec.authorization.rules[].action': { doc: 'Allow or Deny.' },
  'spec.authorization.rules[].principal': { doc: 'Who the rule is about; every condition given must hold.' },
  'spec.authorization.rules[].principal.clientCIDRs': {
    doc: 'Client address ranges, IPv4 or IPv6 (the socket peer until ClientTrafficPolicy client-IP detection).',
  },
  'spec.authorization.rules[].principal.jwt': {
    doc: 'Conditions on a token verified by a provider of this policy.',
  },
  'spec.authorization.rules[].principal.jwt.provider': {
    doc: 'The provider that must have verified the token.',
  },
  'spec.authorization.rules[].principal.jwt.scopes': {
    doc: 'Scopes the token must all carry (scope claim, space-separated, or scp list).',
  },
  'spec.authorization.rules[].principal.jwt.claims': { doc: 'Claims the token must carry.' },
  'spec.authorization.rules[].principal.jwt.claims[].name': { doc: 'Claim name; dots walk nested claims.' },
  'spec.authorization.rules[].principal.jwt.claims[].valueType': {
    doc: 'String or StringArray (a list claim matches when any element is listed).',
    default: 'String',
  },
  'spec.authorization.rules[].principal.jwt.claims[].values': { doc: 'Accepted values (any one).' },
  'spec.authorization.rules[].principal.headers': {
    doc: 'Request headers that must carry one of the values.',
  },
  'spec.authorization.rules[].principal.headers[].name': { doc: 'Header name.' },
  'spec.authorization.rules[].principal.headers[].values': { doc: 'Accepted values (any one).' },
  'spec.authorization.rules[].operation': { doc: 'What the request does; absent: any request.' },
  'spec.authorization.rules[].operation.methods': { doc: 'HTTP methods (any one).' },
  'spec.authorization.rules[].operation.paths': { doc: 'Path prefixes, matched on segment boundaries.' },
  'spec.extAuth': {
    doc: 'An external authorizer asked about every request (Envoy ext_authz HTTP semantics).',
  },
  'spec.extAuth.grpc': {
    doc: "An authorizer speaking Envoy's gRPC API, envoy.service.auth.v3.Authorization/Check (OPA's Envoy plugin, Authorino…), in cleartext HTTP/2.",
  },
  'spec.extAuth.grpc.backendRefs': { doc: 'The authorizer Service (one).' },
  'spec.extAuth.grpc.backendRefs[].group': { doc: 'Core group: empty.', default: '' },
  'spec.extAuth.grpc.backendRefs[].kind': { doc: 'Service.', default: 'Service' },
  'spec.extAuth.grpc.backendRefs[].name': { doc: 'Service name.' },
  'spec.extAuth.grpc.backendRefs[].namespace': {
    doc: 'Service namespace; another namespace needs a ReferenceGrant from SecurityPolicy.',
  },
  'spec.extAuth.grpc.backendRefs[].port': { doc: 'Service port.' },
  'spec.extAuth.http': { doc: 'An HTTP authorizer (exactly one of http and grpc).' },
  'spec.extAuth.http.backendRefs': { doc: 'The authorizer Service (one).' },
  'spec.extAuth.http.backendRefs[].group': { doc: 'Core group: empty.', default: '' },
  'spec.extAuth.http.backendRefs[].kind': { doc: 'Service.', default: 'Service' },
  'spec.extAuth.http.backendRefs[].name': { doc: 'Service name.' },
  'spec.extAuth.http.backendRefs[].namespace': {
    doc: 'Service namespace; another namespace needs a ReferenceGrant from SecurityPolicy.',
  },
  'spec.extAuth.http.backendRefs[].port': { doc: 'Service port.' },
  'spec.extAuth.http.path': {
    doc: 'Prefix of the check request path; the client’s path and query follow it.',
    default: '/',
  },
  'spec.extAuth.http.headersToBackend': {
    doc: 'Headers of the authorizer’s 2xx answer copied onto the request sent upstream.',
  },
  'spec.extAuth.headersToExtAuth': {
    doc: 'Client headers sent to the authorizer (beyond method, path and Host); by default none over HTTP, all over gRPC (as Envoy does).',
  },
  'spec.extAuth.timeout': { doc: 'How long a check may take.', default: '10s' },
  'spec.extAuth.failOpen': {
    doc: 'Let requests through when the authorizer is unreachable, times out or answers 5xx (default: 503).',
    default: false,
  },
};
