import { readHtpasswd } from '../../../proxy/src/config/htpasswd.ts';
import type { ProxyConfig, Route, VirtualHost } from '../../../proxy/src/config/schema.ts';
import type {
  ApiKeyAuth,
  Authorization,
  BasicAuth,
  Cors,
  ExtAuth,
  JwtAuth,
  Oidc,
  Security,
} from '../../../proxy/src/config/security.ts';
import { secretValues } from '../resources/core.ts';
import type { CorsSpec, SecurityPolicy } from '../resources/security-policy.ts';
import { securityPolicyProblems } from '../resources/security-policy.ts';
import type { Resources } from '../resources/snapshot.ts';
import type { BackendResolver } from './backends.ts';
import { type Condition, condition } from './conditions.ts';
import { durationMs } from './durations.ts';
import {
  candidatesFor,
  internEntry,
  Level,
  mapRoutes,
  Outcomes,
  oldestFirst,
  type PreparedRoutePolicy,
  resolveTargets,
  statusOf,
  winnersFor,
} from './policy-attachment.ts';
import { compareStrings } from './precedence.ts';
import type { StatusUpdate } from './status.ts';

/** The Secret label naming the team of the callers a credential Secret holds (API keys, htpasswd). */
export const TEAM_LABEL = 'sluice.dev/team';
const HTPASSWD_KEY = '.htpasswd';
const DEFAULT_EXT_AUTH_TIMEOUT = '10s';

/** The field groups of a SecurityPolicy; precedence is decided per group. */
const GROUPS = ['cors', 'apiKeyAuth', 'basicAuth', 'jwt', 'oidc', 'authorization', 'extAuth'] as const;
const CLIENT_SECRET_KEY = 'client-secret';
type Group = (typeof GROUPS)[number];

/** A policy ready to apply: its proxy-side parts per field group, or why it cannot be applied. */
interface PreparedPolicy extends PreparedRoutePolicy {
  policy: SecurityPolicy;
  parts: Partial<{
    cors: Cors;
    apiKeyAuth: ApiKeyAuth;
    basicAuth: BasicAuth;
    jwt: JwtAuth;
    oidc: Oidc;
    authorization: Authorization;
    extAuth: ExtAuth & { clusterConfig?: ProxyConfig['clusters'][number] };
  }>;
}

/**
 * SecurityPolicies → each route's effective security (GEP-713 policy attachment). For every route
 * rule, each field group (cors, apiKeyAuth, basicAuth, jwt, authorization, extAuth) comes from the
 * most specific policy that sets it — a rule target, then the route, then the listener, then the
 * Gateway; between equals the oldest (then by namespace/name) wins and the other is Conflicted. A
 * policy that cannot be applied as written (a missing Secret, a bad htpasswd line, an authorizer
 * Service that does not exist) still wins its groups, and its routes refuse every request: an
 * unprotected route is never the outcome of a typo. Status is per Gateway ancestor.
 */
export function attachSecurityPolicies(
  resources: Resources,
  configs: ProxyConfig[],
  vhostListener: ReadonlyMap<VirtualHost, string>,
  resolver: BackendResolver,
  controllerName: string,
): { statuses: StatusUpdate[]; affected: PolicyAffected } {
  const affected: PolicyAffected = new Map();
  if (resources.securityPolicies.length === 0) return { statuses: [], affected };
  const prepared = [...resources.securityPolicies]
    .sort(oldestFirst)
    .map((p) => preparePolicy(p, resources, resolver));
  const outcomes = new Outcomes();
  for (const config of configs) {
    const gateway = `${config.gateway.namespace}/${config.gateway.name}`;
    const entries = new Map<string, Security>();
    mapRoutes(config, vhostListener, (route, listenerName) => {
      const candidates = candidatesFor(prepared, config, listenerName, route);
      if (candidates.length === 0) return route;
      const routeKey = `${route.ref.kind}/${route.ref.namespace}/${route.ref.name}`;
      const won = winnersFor(candidates, GROUPS, (p, g) => p.parts[g] !== undefined, outcomes, gateway);
      const winners = new Map<Group, PreparedPolicy>();
      for (const [group, top] of won) {
        winners.set(group, top.policy);
        noteAffected(affected, routeKey, gateway, top.policy.key);
        if (top.level <= Level.Listener)
          noteAffected(affected, `Gateway/${gateway}`, gateway, top.policy.key);
      }
      return applyWinners(route, winners, entries, config);
    });
    if (entries.size > 0) config.security = [...entries.values()];
  }
  return {
    statuses: prepared.map((p) =>
      statusOf('SecurityPolicy', p, outcomes.forPolicy(p.key), configs, controllerName),
    ),
    affected,
  };
}

/**
 * Which SecurityPolicies shape each target, for the GEP-713 condition on the targets themselves:
 * by `Kind/namespace/name` (routes and Gateways), then by the Gateway it applies through.
 */
export type PolicyAffected = Map<string, Map<string, Set<string>>>;

function noteAffected(affected: PolicyAffected, target: string, gateway: string, policy: string): void {
  const byGateway = affected.get(target) ?? new Map<string, Set<string>>();
  affected.set(target, byGateway);
  const policies = byGateway.get(gateway) ?? new Set<string>();
  byGateway.set(gateway, policies);
  policies.add(policy);
}

/** The condition a target carries toward one Gateway while SecurityPolicies apply to it there. */
export function policyAffectedCondition(
  affected: PolicyAffected,
  target: string,
  gateway: string,
  generation: number | undefined,
): Condition | undefined {
  const policies = affected.get(target)?.get(gateway);
  if (!policies) return undefined;
  return condition(
    'SecurityPolicyAffected',
    true,
    'PolicyAffected',
    `SecurityPolicy ${[...policies].sort(compareStrings).join(', ')} applies`,
    generation,
  );
}

function preparePolicy(
  policy: SecurityPolicy,
  resources: Resources,
  resolver: BackendResolver,
): PreparedPolicy {
  const namespace = policy.metadata.namespace ?? 'default';
  const key = `${namespace}/${policy.metadata.name}`;
  const problems = securityPolicyProblems(policy).map((p) => `${p.field}: ${p.message}`);
  const { targets, missing } = resolveTargets(policy, namespace, resources);
  const spec = policy.spec;
  const parts: PreparedPolicy['parts'] = {};
  const warnings: string[] = [];
  const secretOf = (name: string) =>
    resources.secrets.find(
      (s) => (s.metadata.namespace ?? 'default') === namespace && s.metadata.name === name,
    );
  if (spec.cors) parts.cors = corsOf(spec.cors);
  if (spec.apiKeyAuth) {
    const clients: ApiKeyAuth['clients'] = [];
    for (const ref of spec.apiKeyAuth.credentialRefs) {
      const secret = secretOf(ref.name);
      if (!secret) {
        problems.push(`apiKeyAuth: Secret ${namespace}/${ref.name} not found`);
        continue;
      }
      const team = secret.metadata.labels?.[TEAM_LABEL] ?? '';
      const ids = Object.keys(secretValues(secret)).sort(compareStrings);
      if (ids.length === 0) problems.push(`apiKeyAuth: Secret ${namespace}/${ref.name} holds no keys`);
      for (const clientId of ids)
        clients.push({ clientId, team, credentials: { secret: `${namespace}/${ref.name}`, key: clientId } });
    }
    parts.apiKeyAuth = {
      policy: key,
      clients,
      extractFrom: spec.apiKeyAuth.extractFrom.map((e) => ({
        // Authorization carries a key the way SDKs send it: `Bearer <key>`.
        ...(e.headers
          ? {
              headers: e.headers.map((name) =>
                name.toLowerCase() === 'authorization' ? { name, valuePrefix: 'Bearer ' } : { name },
              ),
            }
          : {}),
        ...(e.params ? { params: e.params } : {}),
        ...(e.cookies ? { cookies: e.cookies } : {}),
      })),
      ...(spec.apiKeyAuth.forwardClientIDHeader
        ? { forwardClientIDHeader: spec.apiKeyAuth.forwardClientIDHeader }
        : {}),
      sanitize: spec.apiKeyAuth.sanitize ?? false,
    };
  }
  if (spec.basicAuth) {
    const name = spec.basicAuth.users.name;
    const secret = secretOf(name);
    const text = secret ? secretValues(secret)[HTPASSWD_KEY] : undefined;
    if (!secret) problems.push(`basicAuth: Secret ${namespace}/${name} not found`);
    else if (text === undefined)
      problems.push(`basicAuth: Secret ${namespace}/${name} has no ${HTPASSWD_KEY} key`);
    else {
      // A bad line locks out only its own user; a file with no usable line locks out everyone, loudly.
      const read = readHtpasswd(text);
      const lines = read.problems.map((p) => `basicAuth: ${HTPASSWD_KEY} ${p}`);
      if (read.entries.length === 0)
        problems.push('basicAuth: the htpasswd file has no usable user', ...lines);
      else warnings.push(...lines.map((l) => `${l} (skipped)`));
    }
    parts.basicAuth = {
      policy: key,
      users: { secret: `${namespace}/${name}`, key: HTPASSWD_KEY },
      team: secret?.metadata.labels?.[TEAM_LABEL] ?? '',
      ...(spec.basicAuth.forwardUsernameHeader
        ? { forwardUsernameHeader: spec.basicAuth.forwardUsernameHeader }
        : {}),
    };
  }
  if (spec.jwt) {
    const providers: JwtAuth['providers'] = [];
    for (const p of spec.jwt.providers) {
      let jwks: Record<string, unknown>[] | undefined;
      if (p.localJWKS) {
        jwks = inlineKeys(p.localJWKS.inline);
        if (!jwks)
          problems.push(
            `jwt provider ${p.name}: localJWKS.inline is not a JSON Web Key Set ({"keys": [...]})`,
          );
      }
      providers.push({
        name: p.name,
        ...(p.issuer ? { issuer: p.issuer } : {}),
        ...(p.audiences?.length ? { audiences: p.audiences } : {}),
        ...(jwks ? { jwks } : {}),
        ...(p.remoteJWKS ? { jwksUri: p.remoteJWKS.uri } : {}),
        ...(p.remoteJWKS?.cacheDuration ? { cacheMs: durationMs(p.remoteJWKS.cacheDuration) } : {}),
        ...(p.remoteJWKS?.timeout ? { timeoutMs: durationMs(p.remoteJWKS.timeout) } : {}),
        consumerClaim: p.consumerClaim ?? 'sub',
        ...(p.teamClaim ? { teamClaim: p.teamClaim } : {}),
        claimToHeaders: p.claimToHeaders ?? [],
        ...(p.extractFrom
          ? {
              extractFrom: {
                ...(p.extractFrom.headers ? { headers: p.extractFrom.headers } : {}),
                ...(p.extractFrom.params ? { params: p.extractFrom.params } : {}),
                ...(p.extractFrom.cookies ? { cookies: p.extractFrom.cookies } : {}),
              },
            }
          : {}),
      });
    }
    parts.jwt = { policy: key, optional: spec.jwt.optional ?? false, providers };
  }
  if (spec.oidc) {
    const o = spec.oidc;
    const secret = secretOf(o.clientSecret.name);
    if (!secret) problems.push(`oidc: Secret ${namespace}/${o.clientSecret.name} not found`);
    else if (!secretValues(secret)[CLIENT_SECRET_KEY])
      problems.push(`oidc: Secret ${namespace}/${o.clientSecret.name} has no ${CLIENT_SECRET_KEY} key`);
    parts.oidc = {
      policy: key,
      issuer: o.provider.issuer,
      ...(o.provider.authorizationEndpoint
        ? { authorizationEndpoint: o.provider.authorizationEndpoint }
        : {}),
      ...(o.provider.tokenEndpoint ? { tokenEndpoint: o.provider.tokenEndpoint } : {}),
      clientId: o.clientID,
      clientSecret: { secret: `${namespace}/${o.clientSecret.name}`, key: CLIENT_SECRET_KEY },
      // `openid` makes it OpenID Connect (an ID token comes back); the rest are the policy's.
      scopes: ['openid', ...(o.scopes ?? []).filter((s) => s !== 'openid')],
      redirectUrl: o.redirectURL ?? '/oauth2/callback',
      logoutPath: o.logoutPath ?? '/logout',
      forwardAccessToken: o.forwardAccessToken ?? false,
      refreshToken: o.refreshToken ?? true,
      consumerClaim: o.consumerClaim ?? 'sub',
      ...(o.teamClaim ? { teamClaim: o.teamClaim } : {}),
    };
  }
  if (spec.authorization) {
    parts.authorization = {
      policy: key,
      defaultAction: spec.authorization.defaultAction ?? 'Deny',
      rules: (spec.authorization.rules ?? []).map((r, i) => ({
        name: r.name ?? `rule-${i}`,
        action: r.action,
        ...(r.principal.clientCIDRs ? { clientCIDRs: r.principal.clientCIDRs } : {}),
        ...(r.principal.jwt
          ? {
              jwt: {
                provider: r.principal.jwt.provider,
                ...(r.principal.jwt.scopes ? { scopes: r.principal.jwt.scopes } : {}),
                ...(r.principal.jwt.claims
                  ? { claims: r.principal.jwt.claims.map((c) => ({ name: c.name, values: c.values })) }
                  : {}),
              },
            }
          : {}),
        ...(r.principal.headers ? { headers: r.principal.headers } : {}),
        ...(r.operation?.methods ? { methods: r.operation.methods } : {}),
        ...(r.operation?.paths ? { paths: r.operation.paths } : {}),
      })),
    };
  }
  if (spec.extAuth) {
    const http = spec.extAuth.http;
    const ref = (http ?? spec.extAuth.grpc)!.backendRefs[0]!;
    const resolved = resolver.resolve(ref, namespace, 'SecurityPolicy');
    if (!resolved.ok) problems.push(`extAuth: ${resolved.message}`);
    const cluster = resolved.ok ? resolver.clusters().find((c) => c.name === resolved.cluster) : undefined;
    parts.extAuth = {
      policy: key,
      protocol: http ? 'HTTP' : 'GRPC',
      cluster: resolved.ok ? resolved.cluster : `unresolved/${key}`,
      pathPrefix: http?.path ?? '/',
      headersToExtAuth: spec.extAuth.headersToExtAuth ?? [],
      headersToBackend: http?.headersToBackend ?? [],
      timeoutMs: durationMs(spec.extAuth.timeout ?? DEFAULT_EXT_AUTH_TIMEOUT),
      failOpen: spec.extAuth.failOpen ?? false,
      ...(cluster ? { clusterConfig: cluster } : {}),
    };
  }
  return {
    key,
    policy,
    namespace,
    targets,
    missing,
    problems,
    warnings,
    invalidMeans: 'its routes refuse requests until fixed',
    parts,
  };
}

/** The policies that apply to one route rule, most specific first, then oldest first. */

/** The route with its effective security: one shared entry per distinct combination of winners. */
function applyWinners(
  route: Route,
  winners: Map<Group, PreparedPolicy>,
  entries: Map<string, Security>,
  config: ProxyConfig,
): Route {
  const cors = winners.get('cors')?.parts.cors;
  const entry: Omit<Security, 'name'> = {};
  const invalid = [...winners.values()].find((p) => p.problems.length > 0);
  // A route that refuses everything needs none of the mechanisms: leaving them out also keeps their
  // Secrets (maybe the missing ones) out of what the proxy must load, so one bad policy cannot
  // block the whole Gateway's config.
  if (invalid) entry.invalid = { policy: invalid.key, reason: invalid.problems[0]! };
  for (const group of GROUPS) {
    if (group === 'cors' || invalid) continue;
    const part = winners.get(group)?.parts[group];
    if (!part) continue;
    if (group === 'extAuth') {
      const { clusterConfig, ...extAuth } = part as NonNullable<PreparedPolicy['parts']['extAuth']>;
      if (clusterConfig && !config.clusters.some((c) => c.name === clusterConfig.name))
        config.clusters.push(clusterConfig);
      if (clusterConfig) entry.extAuth = extAuth;
      continue;
    }
    Object.assign(entry, { [group]: part });
  }
  const securityGroups = Object.keys(entry).length > 0;
  const name = securityGroups
    ? internEntry(
        entries,
        [...new Set([...winners.entries()].filter(([g]) => g !== 'cors').map(([, p]) => p.key))].join('+'),
        entry,
      )
    : undefined;
  return {
    ...route,
    // The route's own CORS filter (a rule of the route itself) is more specific than any policy.
    ...(cors && !route.cors ? { cors } : {}),
    ...(name ? { security: name } : {}),
  };
}

function corsOf(spec: CorsSpec): Cors {
  return {
    allowOrigins: spec.allowOrigins,
    allowMethods: spec.allowMethods ?? [],
    allowHeaders: spec.allowHeaders ?? [],
    exposeHeaders: spec.exposeHeaders ?? [],
    ...(spec.maxAge ? { maxAgeSeconds: Math.floor(durationMs(spec.maxAge) / 1000) } : {}),
    allowCredentials: spec.allowCredentials ?? false,
  };
}

/** `{"keys": [...]}` as inline JSON, or undefined when it is not a key set. */
function inlineKeys(text: string): Record<string, unknown>[] | undefined {
  try {
    const parsed = JSON.parse(text) as { keys?: unknown };
    const keys = parsed?.keys;
    return Array.isArray(keys) && keys.length > 0 && keys.every((k) => typeof k === 'object' && k !== null)
      ? (keys as Record<string, unknown>[])
      : undefined;
  } catch {
    return undefined;
  }
}
