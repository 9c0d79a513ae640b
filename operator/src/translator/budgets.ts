import type { BudgetLimit, IdentityConfig } from '../../../proxy/src/config/budgets.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { secretValues } from '../resources/core.ts';
import { GATEWAY_GROUP } from '../resources/gateway-api.ts';
import { AI_DEFAULTS, type TokenRateLimitPolicy } from '../resources/sluice-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { type Condition, condition } from './conditions.ts';
import { compareStrings } from './precedence.ts';
import { describeRouteRef, resolveRouteTarget, servesTarget } from './route-targets.ts';
import type { StatusUpdate } from './status.ts';

/** Secret keys of an API-key consumer Secret. */
const KEY = 'api-key';
const CONSUMER = 'consumer';
const TEAM = 'team';

/**
 * TokenRateLimitPolicies → the budgets and client identity of each Gateway's config. A policy
 * targets a Gateway (every request), an HTTPRoute (its rules) or an AIBackend (requests it serves).
 */
export function attachBudgets(resources: Resources, configs: ProxyConfig[]): StatusUpdate[] {
  const statuses: StatusUpdate[] = [];
  const secrets = new Map(
    resources.secrets.map((s) => [
      `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`,
      secretValues(s),
    ]),
  );
  const aiBackends = new Set(
    resources.aiBackends.map((b) => `${b.metadata.namespace ?? 'default'}/${b.metadata.name}`),
  );
  const policies = [...resources.tokenRateLimitPolicies].sort((a, b) => compareStrings(key(a), key(b)));
  for (const policy of policies) {
    const ns = policy.metadata.namespace ?? 'default';
    const generation = policy.metadata.generation;
    const missingTargets = policy.spec.targetRefs.filter((t) => {
      const name = `${ns}/${t.name}`;
      if (t.kind === 'Gateway')
        return (
          t.group !== GATEWAY_GROUP ||
          !configs.some((c) => `${c.gateway.namespace}/${c.gateway.name}` === name)
        );
      if (t.kind === 'HTTPRoute') return t.group !== GATEWAY_GROUP || !resolveRouteTarget(resources, ns, t);
      return t.group !== 'sluice.dev' || !aiBackends.has(name);
    });
    const { identity, problems } = identityOf(policy, ns, secrets);
    const conditions: Condition[] = [
      missingTargets.length === 0
        ? condition('Accepted', true, 'Accepted', 'Policy is attached', generation)
        : condition(
            'Accepted',
            false,
            'TargetNotFound',
            `targets not found: ${missingTargets
              .map((t) => (t.kind === 'HTTPRoute' ? describeRouteRef(ns, t) : `${t.kind} ${ns}/${t.name}`))
              .join(', ')}`,
            generation,
          ),
      problems.length === 0
        ? condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', generation)
        : condition('ResolvedRefs', false, 'InvalidAPIKeySecrets', problems.join('; '), generation),
    ];
    statuses.push({
      kind: 'TokenRateLimitPolicy',
      namespace: ns,
      name: policy.metadata.name,
      status: { conditions },
    });
    for (const target of policy.spec.targetRefs) {
      if (missingTargets.includes(target)) continue;
      const name = `${ns}/${target.name}`;
      const route = target.kind === 'HTTPRoute' ? resolveRouteTarget(resources, ns, target) : undefined;
      const scope: BudgetLimit['scope'] =
        target.kind === 'Gateway'
          ? { kind: 'Gateway' }
          : route
            ? { kind: 'Route', route }
            : { kind: 'AIBackend', aiBackend: name };
      for (const config of configs) {
        if (!applies(config, scope, name)) continue;
        config.budgets.push(...limitsOf(policy, ns, scope, identity !== undefined));
        if (identity) config.identity = mergeIdentity(config.identity, identity);
      }
    }
  }
  return statuses;
}

function applies(config: ProxyConfig, scope: BudgetLimit['scope'], name: string): boolean {
  if (scope.kind === 'Gateway') return `${config.gateway.namespace}/${config.gateway.name}` === name;
  if (scope.kind === 'AIBackend') return config.aiBackends.some((b) => b.name === name);
  return servesTarget(config, scope.route);
}

function limitsOf(
  policy: TokenRateLimitPolicy,
  ns: string,
  scope: BudgetLimit['scope'],
  hasIdentity: boolean,
): BudgetLimit[] {
  const spec = policy.spec;
  return spec.limits.map((l) => ({
    name: `${ns}/${policy.metadata.name}/${l.name}`,
    scope,
    per: l.per ?? 'Global',
    ...(l.perHeader ? { perHeader: l.perHeader } : {}),
    match: l.match ?? {},
    measure: l.measure,
    amount: l.amount,
    window: l.window,
    shadow: spec.shadow ?? false,
    failureMode: spec.failureMode ?? 'FailOpen',
    requireIdentity: hasIdentity && (spec.identity?.required ?? true),
    defaultMaxOutputTokens: spec.defaultMaxOutputTokens ?? AI_DEFAULTS.defaultMaxOutputTokens,
  }));
}

function identityOf(
  policy: TokenRateLimitPolicy,
  ns: string,
  secrets: ReadonlyMap<string, Record<string, string>>,
): { identity: IdentityConfig | undefined; problems: string[] } {
  const spec = policy.spec.identity;
  if (!spec) return { identity: undefined, problems: [] };
  const problems: string[] = [];
  const apiKeys: IdentityConfig['apiKeys'] = [];
  for (const ref of spec.apiKeys ?? []) {
    const name = `${ns}/${ref.secretRef.name}`;
    const values = secrets.get(name);
    if (!values) problems.push(`Secret ${name} not found`);
    else if (!values[KEY] || !values[CONSUMER])
      problems.push(`Secret ${name} needs keys ${KEY} and ${CONSUMER}`);
    else
      apiKeys.push({
        consumer: values[CONSUMER],
        team: values[TEAM] ?? '',
        credentials: { secret: name, key: KEY },
      });
  }
  const jwt = spec.jwt;
  return {
    identity: {
      apiKeys,
      ...(jwt
        ? {
            jwt: {
              ...(jwt.issuer !== undefined ? { issuer: jwt.issuer } : {}),
              ...(jwt.audiences ? { audiences: jwt.audiences } : {}),
              ...(jwt.jwks ? { jwks: jwt.jwks.keys } : {}),
              ...(jwt.jwksUri ? { jwksUri: jwt.jwksUri } : {}),
              consumerClaim: jwt.consumerClaim ?? 'sub',
              ...(jwt.teamClaim ? { teamClaim: jwt.teamClaim } : {}),
            },
          }
        : {}),
      ...(spec.trustedHeaders ? { trustedHeaders: spec.trustedHeaders } : {}),
    },
    problems,
  };
}

function mergeIdentity(a: IdentityConfig | undefined, b: IdentityConfig): IdentityConfig {
  if (!a) return b;
  const seen = new Set(a.apiKeys.map((k) => k.credentials.secret));
  const jwt = a.jwt ?? b.jwt;
  return {
    apiKeys: [...a.apiKeys, ...b.apiKeys.filter((k) => !seen.has(k.credentials.secret))],
    ...(jwt ? { jwt } : {}),
    ...((a.trustedHeaders ?? b.trustedHeaders)
      ? { trustedHeaders: a.trustedHeaders ?? b.trustedHeaders }
      : {}),
  };
}

function key(p: TokenRateLimitPolicy): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}
