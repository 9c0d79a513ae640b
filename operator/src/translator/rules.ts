import type {
  HeaderModifier,
  Mirror,
  PathModifier,
  Redirect,
  Rewrite,
  Route,
  RouteMatch,
  Timeouts,
  WeightedAIBackend,
  WeightedBackend,
} from '../../../proxy/src/config/schema.ts';
import type { Cors } from '../../../proxy/src/config/security.ts';
import type { Retry } from '../../../proxy/src/config/traffic.ts';
import { userRegexProblem } from '../../../proxy/src/config/user-regex.ts';
import type { HTTPRoute, HTTPRouteFilter, HTTPRouteRule } from '../resources/gateway-api.ts';
import { SLUICE_GROUP } from '../resources/sluice-api.ts';
import type { BackendResolver } from './backends.ts';
import { durationMs } from './durations.ts';

export interface RuleProblem {
  reason: string;
  message: string;
}

export interface RuleTranslation {
  /** One IR route per match of the rule (empty when the rule is invalid). */
  routes: Route[];
  /** Set when the rule cannot be programmed; the route is then (partially) not accepted. */
  invalid?: RuleProblem;
  /** Backend references that did not resolve (ResolvedRefs=False); their share of traffic gets 500. */
  refProblems: RuleProblem[];
  /** PromptGuards (`namespace/name`) the rule references with ExtensionRef filters. */
  guards: string[];
}

type SpecMatch = NonNullable<HTTPRouteRule['matches']>[number];
const DEFAULT_MATCH: SpecMatch = { path: { type: 'PathPrefix', value: '/' } };

/** Turns one HTTPRoute rule into IR routes, or says why it cannot be programmed. */
export function translateRule(
  route: HTTPRoute,
  ruleIndex: number,
  rule: HTTPRouteRule,
  resolver: BackendResolver,
  knownGuards: ReadonlySet<string>,
  kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute',
): RuleTranslation {
  const namespace = route.metadata.namespace ?? 'default';
  const refProblems: RuleProblem[] = [];
  const guards: string[] = [];
  const fail = (reason: string, message: string): RuleTranslation => ({
    routes: [],
    invalid: { reason, message: `rule ${ruleIndex}: ${message}` },
    refProblems,
    guards: [],
  });

  const matches: RouteMatch[] = [];
  for (const m of rule.matches?.length ? rule.matches : [DEFAULT_MATCH]) {
    const path = { type: m.path?.type ?? 'PathPrefix', value: m.path?.value ?? '/' };
    if (path.type !== 'RegularExpression' && !path.value.startsWith('/'))
      return fail('UnsupportedValue', `path "${path.value}" must start with /`);
    const regexes = [
      ...(path.type === 'RegularExpression' ? [path.value] : []),
      ...[...(m.headers ?? []), ...(m.queryParams ?? [])]
        .filter((h) => h.type === 'RegularExpression')
        .map((h) => h.value),
    ];
    for (const r of regexes) {
      const problem = userRegexProblem(r);
      if (problem) return fail('UnsupportedValue', `"${r}": ${problem}`);
    }
    matches.push({
      path,
      headers: dedupeByName(m.headers ?? [], true).map((h) => ({
        type: h.type ?? 'Exact',
        name: h.name,
        value: h.value,
      })),
      queryParams: dedupeByName(m.queryParams ?? [], false).map((q) => ({
        type: q.type ?? 'Exact',
        name: q.name,
        value: q.value,
      })),
      ...(m.method ? { method: m.method } : {}),
    });
  }

  let requestHeaders: HeaderModifier | undefined;
  let responseHeaders: HeaderModifier | undefined;
  let redirect: Redirect | undefined;
  let rewrite: Rewrite | undefined;
  const mirrors: Mirror[] = [];
  let cors: Cors | undefined;
  for (const f of rule.filters ?? []) {
    switch (f.type) {
      case 'CORS': {
        const c = f.cors ?? {};
        cors = {
          allowOrigins: c.allowOrigins ?? [],
          allowMethods: c.allowMethods ?? [],
          allowHeaders: c.allowHeaders ?? [],
          exposeHeaders: c.exposeHeaders ?? [],
          // The API's default: browsers cache a preflight answer for 5 seconds.
          maxAgeSeconds: c.maxAge ?? 5,
          allowCredentials: c.allowCredentials ?? false,
        };
        break;
      }
      case 'RequestHeaderModifier':
        requestHeaders = headerModifier(f.requestHeaderModifier);
        break;
      case 'ResponseHeaderModifier':
        responseHeaders = headerModifier(f.responseHeaderModifier);
        break;
      case 'RequestRedirect': {
        const r = f.requestRedirect ?? {};
        redirect = {
          statusCode: r.statusCode ?? 302,
          ...(r.scheme ? { scheme: r.scheme } : {}),
          ...(r.hostname ? { hostname: r.hostname } : {}),
          ...(r.port ? { port: r.port } : {}),
          ...(r.path ? { path: pathModifier(r.path) } : {}),
        };
        break;
      }
      case 'URLRewrite': {
        const r = f.urlRewrite ?? {};
        rewrite = {
          ...(r.hostname ? { hostname: r.hostname } : {}),
          ...(r.path ? { path: pathModifier(r.path) } : {}),
        };
        break;
      }
      case 'RequestMirror': {
        const m = f.requestMirror;
        if (!m) return fail('UnsupportedValue', 'RequestMirror filter without requestMirror');
        const resolved = resolver.resolve(m.backendRef, namespace, 'HTTPRoute');
        if (!resolved.ok)
          refProblems.push({ reason: resolved.reason, message: `mirror: ${resolved.message}` });
        else mirrors.push({ cluster: resolved.cluster, percent: mirrorPercent(m) });
        break;
      }
      case 'ExtensionRef': {
        const ref = f.extensionRef;
        if (ref?.group !== SLUICE_GROUP || ref.kind !== 'PromptGuard')
          return fail('UnsupportedValue', `ExtensionRef to ${ref?.group}/${ref?.kind} is not supported`);
        const key = `${namespace}/${ref.name}`;
        if (!knownGuards.has(key))
          return fail('UnsupportedValue', `PromptGuard ${key} not found or not accepted`);
        guards.push(key);
        break;
      }
      default:
        return fail('UnsupportedValue', `filter type ${f.type} is not supported`);
    }
  }
  if (redirect && rewrite)
    return fail('IncompatibleFilters', 'RequestRedirect and URLRewrite cannot be combined');
  const prefixModifier =
    redirect?.path?.type === 'ReplacePrefixMatch' || rewrite?.path?.type === 'ReplacePrefixMatch';
  if (prefixModifier && matches.some((m) => m.path.type !== 'PathPrefix'))
    return fail('UnsupportedValue', 'ReplacePrefixMatch requires every match to be a PathPrefix');

  const timeouts: Timeouts = {};
  const requestMs = rule.timeouts?.request ? durationMs(rule.timeouts.request) : 0;
  const backendMs = rule.timeouts?.backendRequest ? durationMs(rule.timeouts.backendRequest) : 0;
  if (requestMs > 0) timeouts.requestMs = requestMs;
  if (backendMs > 0) timeouts.backendRequestMs = backendMs;
  if (requestMs > 0 && backendMs > requestMs)
    return fail('UnsupportedValue', 'timeouts.backendRequest must not exceed timeouts.request');

  const backends: WeightedBackend[] = [];
  const refs = redirect ? [] : (rule.backendRefs ?? []);
  const isAI = (r: (typeof refs)[number]) => r.group === SLUICE_GROUP && r.kind === 'AIBackend';
  const aiRefs = refs.filter(isAI);
  if (aiRefs.length > 0 && aiRefs.length < refs.length)
    return fail('UnsupportedValue', 'a rule cannot mix AIBackend and Service backendRefs');
  if (guards.length > 0 && aiRefs.length === 0)
    return fail('UnsupportedValue', 'a PromptGuard ExtensionRef applies to AIBackend rules only');
  if (aiRefs.length > 0 && (rewrite || mirrors.length > 0))
    return fail('UnsupportedValue', 'URLRewrite and RequestMirror do not apply to AIBackend rules');
  const aiBackends: WeightedAIBackend[] = [];
  for (const ref of refs) {
    const weight = ref.weight ?? 1;
    const refFilters = ref.filters ?? [];
    const unsupported = refFilters.find((f) => f.type !== 'RequestHeaderModifier');
    if (unsupported)
      return fail(
        'UnsupportedValue',
        `backendRefs[].filters supports RequestHeaderModifier only, not ${unsupported.type}`,
      );
    if (refFilters.length > 0 && isAI(ref))
      return fail('UnsupportedValue', 'backendRefs[].filters do not apply to AIBackend references');
    // The Gateway API allows one RequestHeaderModifier per backendRef (CEL forbids repeating it).
    const ownHeaders = refFilters[0] ? headerModifier(refFilters[0].requestHeaderModifier) : undefined;
    const resolved = isAI(ref)
      ? resolver.resolveAIBackend(ref, namespace, kind)
      : resolver.resolve(ref, namespace, kind);
    if (!resolved.ok) refProblems.push({ reason: resolved.reason, message: resolved.message });
    const entry = resolved.ok ? { weight, target: resolved.cluster } : { weight };
    if (isAI(ref)) aiBackends.push(entry.target ? { aiBackend: entry.target, weight } : { weight });
    else
      backends.push({
        ...(entry.target ? { cluster: entry.target } : {}),
        weight,
        ...(ownHeaders ? { requestHeaders: ownHeaders } : {}),
      });
  }

  const routes = matches.map(
    (match, matchIndex): Route => ({
      name: `${kind.toLowerCase()}/${namespace}/${route.metadata.name}/rule/${ruleIndex}/match/${matchIndex}`,
      ref: { kind, namespace, name: route.metadata.name, rule: ruleIndex },
      match,
      ...(requestHeaders ? { requestHeaders } : {}),
      ...(responseHeaders ? { responseHeaders } : {}),
      ...(redirect ? { redirect } : {}),
      ...(rewrite ? { rewrite } : {}),
      mirrors,
      backends,
      ...(aiRefs.length > 0 ? { aiBackends } : {}),
      ...(Object.keys(timeouts).length > 0 ? { timeouts } : {}),
      ...(kind === 'GRPCRoute' ? { grpc: true as const } : {}),
      ...(cors ? { cors } : {}),
      ...(rule.retry ? { retry: routeRetry(rule.retry) } : {}),
      ...(rule.sessionPersistence ? { sessionPersistence: sessionOf(rule.sessionPersistence) } : {}),
    }),
  );
  return { routes, refProblems, guards };
}

/**
 * The HTTPRoute and GRPCRoute `sessionPersistence` field: the session name (defaults `sluice-session` for a cookie,
 * `x-sluice-session` for a header) and, for a Permanent cookie, its lifetime (absoluteTimeout).
 */
function sessionOf(
  p: NonNullable<HTTPRouteRule['sessionPersistence']>,
): NonNullable<Route['sessionPersistence']> {
  const type = p.type ?? 'Cookie';
  const permanent = type === 'Cookie' && p.cookieConfig?.lifetimeType === 'Permanent' && p.absoluteTimeout;
  const seconds = permanent ? Math.ceil(durationMs(p.absoluteTimeout!) / 1000) : 0;
  return {
    type,
    name: p.sessionName ?? (type === 'Cookie' ? 'sluice-session' : 'x-sluice-session'),
    ...(seconds > 0 ? { ttlSeconds: seconds } : {}),
  };
}

/** Envoy Gateway's number of retries when none is given, for the HTTPRoute field as for the policy. */
export const DEFAULT_RETRIES = 2;

/**
 * The HTTPRoute `retry` field: the listed codes, a backend that did not answer (connection failure,
 * reset, backendRequest timeout); `backoff` is the least wait, doubled per retry up to ten times it.
 */
function routeRetry(r: NonNullable<HTTPRouteRule['retry']>): Retry {
  const base = r.backoff ? durationMs(r.backoff) : 0;
  return {
    numRetries: r.attempts ?? DEFAULT_RETRIES,
    triggers: ['retriable-status-codes', 'connect-failure', 'reset'],
    statusCodes: r.codes ?? [],
    backOffBaseMs: base,
    backOffMaxMs: base * 10,
    backOffFloor: true,
  };
}

function headerModifier(m: HTTPRouteFilter['requestHeaderModifier']): HeaderModifier {
  return { set: m?.set ?? [], add: m?.add ?? [], remove: m?.remove ?? [] };
}

function pathModifier(p: NonNullable<NonNullable<HTTPRouteFilter['urlRewrite']>['path']>): PathModifier {
  return p.type === 'ReplaceFullPath'
    ? { type: 'ReplaceFullPath', value: p.replaceFullPath ?? '/' }
    : { type: 'ReplacePrefixMatch', value: p.replacePrefixMatch ?? '/' };
}

function mirrorPercent(m: NonNullable<HTTPRouteFilter['requestMirror']>): number {
  if (m.percent !== undefined) return m.percent;
  if (m.fraction) return Math.min(100, (m.fraction.numerator / (m.fraction.denominator ?? 100)) * 100);
  return 100;
}

/** The spec says the first of several matches on the same name wins (header names case-insensitively). */
function dedupeByName<T extends { name: string }>(items: readonly T[], caseInsensitive: boolean): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = caseInsensitive ? i.name.toLowerCase() : i.name;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
