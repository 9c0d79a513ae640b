import type { ProxyConfig, Route, VirtualHost } from '../../../proxy/src/config/schema.ts';
import type {
  CircuitBreaker,
  Compression,
  FaultInjection,
  HealthCheck,
  LoadBalancer,
  RateLimitRule,
  RateLimitSelector,
  ResponseOverride,
  Retry,
  Traffic,
} from '../../../proxy/src/config/traffic.ts';
import type { BackendTrafficPolicy, RateLimitRuleSpec } from '../resources/backend-traffic-policy.ts';
import { backendTrafficPolicyProblems } from '../resources/backend-traffic-policy.ts';
import type { Resources } from '../resources/snapshot.ts';
import { durationMs, quantityBytes } from './durations.ts';
import {
  candidatesFor,
  internEntry,
  mapRoutes,
  Outcomes,
  oldestFirst,
  type PreparedRoutePolicy,
  resolveTargets,
  statusOf,
  winnersFor,
} from './policy-attachment.ts';
import { DEFAULT_RETRIES } from './rules.ts';
import type { StatusUpdate } from './status.ts';

/** The field groups of a BackendTrafficPolicy; precedence is decided per group. */
const GROUPS = [
  'rateLimit',
  'retry',
  'circuitBreaker',
  'timeout',
  'loadBalancer',
  'healthCheck',
  'faultInjection',
  'compression',
  'responseOverride',
] as const;
type Group = (typeof GROUPS)[number];

const UNIT_SECONDS = { Second: 1, Minute: 60, Hour: 3600, Day: 86_400 } as const;
/** Envoy's back-off base when none is given. */
const DEFAULT_BACKOFF_BASE_MS = 25;

interface PreparedPolicy extends PreparedRoutePolicy {
  policy: BackendTrafficPolicy;
  parts: Partial<{
    rateLimit: NonNullable<Traffic['rateLimit']>;
    retry: Retry;
    circuitBreaker: CircuitBreaker;
    timeout: { requestMs?: number; connectMs?: number; idleMs?: number };
    loadBalancer: LoadBalancer;
    healthCheck: HealthCheck;
    faultInjection: FaultInjection;
    compression: Compression;
    responseOverride: ResponseOverride;
  }>;
}

/**
 * BackendTrafficPolicies → each route's rate limits, retries, circuit breaker, request timeout, load
 * balancer and health checks
 * (GEP-713 attachment, as SecurityPolicy: per field group the most specific target wins — rule,
 * route, listener, Gateway — and between equals the oldest). What a route says itself wins over
 * any policy: its `retry` field and `timeouts.request`. Rate limits and the breaker become shared
 * `ProxyConfig.traffic` entries; a policy that cannot be applied (a bad regex the API server could
 * not check) applies nowhere and says why in its status.
 */
export function attachBackendTrafficPolicies(
  resources: Resources,
  configs: ProxyConfig[],
  vhostListener: ReadonlyMap<VirtualHost, string>,
  controllerName: string,
): StatusUpdate[] {
  if (resources.backendTrafficPolicies.length === 0) return [];
  const prepared = [...resources.backendTrafficPolicies]
    .sort(oldestFirst)
    .map((p) => preparePolicy(p, resources));
  const usable = prepared.filter((p) => p.problems.length === 0);
  const outcomes = new Outcomes();
  for (const config of configs) {
    const gateway = `${config.gateway.namespace}/${config.gateway.name}`;
    const entries = new Map<string, Traffic>();
    mapRoutes(config, vhostListener, (route, listenerName) => {
      const candidates = candidatesFor(usable, config, listenerName, route);
      if (candidates.length === 0) return route;
      const won = winnersFor(candidates, GROUPS, (p, g) => p.parts[g] !== undefined, outcomes, gateway);
      return withConnectionTimeouts(applyWinners(route, won, entries), won, config);
    });
    if (entries.size > 0) config.traffic = [...entries.values()];
  }
  return prepared.map((p) =>
    statusOf('BackendTrafficPolicy', p, outcomes.forPolicy(p.key), configs, controllerName),
  );
}

function preparePolicy(policy: BackendTrafficPolicy, resources: Resources): PreparedPolicy {
  const namespace = policy.metadata.namespace ?? 'default';
  const spec = policy.spec;
  const { targets, missing } = resolveTargets(policy, namespace, resources);
  const parts: PreparedPolicy['parts'] = {};
  if (spec.rateLimit) {
    const local = spec.rateLimit.local?.rules.map(rateLimitRule);
    const global = spec.rateLimit.global;
    parts.rateLimit = {
      policy: `${namespace}/${policy.metadata.name}`,
      ...(local ? { local } : {}),
      ...(global
        ? {
            global: {
              rules: global.rules.map(rateLimitRule),
              ...(global.failureMode ? { failureMode: global.failureMode } : {}),
            },
          }
        : {}),
    };
  }
  if (spec.retry) parts.retry = retryOf(spec.retry);
  if (spec.circuitBreaker) parts.circuitBreaker = { ...spec.circuitBreaker };
  const t = spec.timeout;
  const ms = (d: string | undefined) => (d ? Math.max(1, durationMs(d)) : undefined);
  const timeout = {
    requestMs: ms(t?.http?.requestTimeout),
    connectMs: ms(t?.tcp?.connectTimeout),
    idleMs: ms(t?.http?.connectionIdleTimeout),
  };
  if (Object.values(timeout).some((v) => v !== undefined))
    parts.timeout = Object.fromEntries(Object.entries(timeout).filter(([, v]) => v !== undefined));
  if (spec.loadBalancer) parts.loadBalancer = loadBalancerOf(spec.loadBalancer);
  if (spec.healthCheck) parts.healthCheck = healthCheckOf(spec.healthCheck);
  if (spec.faultInjection) parts.faultInjection = faultsOf(spec.faultInjection);
  if (spec.compression) parts.compression = compressionOf(spec.compression);
  if (spec.responseOverride)
    parts.responseOverride = spec.responseOverride.map((o) => ({
      statuses: o.match.statusCodes.map((m) =>
        m.type === 'Range'
          ? { start: m.range!.start, end: m.range!.end }
          : { start: m.value!, end: m.value! },
      ),
      ...(o.response.statusCode !== undefined ? { status: o.response.statusCode } : {}),
      ...(o.response.contentType !== undefined ? { contentType: o.response.contentType } : {}),
      body: o.response.body?.inline ?? '',
    }));
  return {
    key: `${namespace}/${policy.metadata.name}`,
    policy,
    namespace,
    targets,
    missing,
    problems: backendTrafficPolicyProblems(policy).map((p) => `${p.field}: ${p.message}`),
    warnings: [],
    invalidMeans: 'it applies nowhere until fixed',
    parts,
  };
}

function applyWinners(
  route: Route,
  won: Map<Group, { policy: PreparedPolicy }>,
  entries: Map<string, Traffic>,
): Route {
  const rateLimit = won.get('rateLimit')?.policy.parts.rateLimit;
  const circuitBreaker = won.get('circuitBreaker')?.policy.parts.circuitBreaker;
  const retry = won.get('retry')?.policy.parts.retry;
  const timeout = won.get('timeout')?.policy.parts.timeout;
  // AI routes keep the AIBackend's own failover, timeouts and target choice: the policy's retry,
  // timeout, load balancer and health checks are not theirs.
  const ai = route.aiBackends !== undefined;
  const loadBalancer = ai ? undefined : won.get('loadBalancer')?.policy.parts.loadBalancer;
  const healthCheck = ai ? undefined : won.get('healthCheck')?.policy.parts.healthCheck;
  const faultInjection = won.get('faultInjection')?.policy.parts.faultInjection;
  // AI answers are written by the AI pipeline, not relayed: compression is for Service routes.
  const compression = ai ? undefined : won.get('compression')?.policy.parts.compression;
  const responseOverride = ai ? undefined : won.get('responseOverride')?.policy.parts.responseOverride;
  const parts = {
    rateLimit,
    circuitBreaker,
    loadBalancer,
    healthCheck,
    faultInjection,
    compression,
    responseOverride,
  };
  let traffic: string | undefined;
  // The parts that apply become one shared entry, named after the policies they came from.
  const applied = Object.entries(parts).filter(([, p]) => p !== undefined);
  if (applied.length > 0) {
    const from = applied.map(([group]) => won.get(group as Group)!.policy.key);
    traffic = internEntry(
      entries,
      [...new Set(from)].join('+'),
      Object.fromEntries(applied) as Omit<Traffic, 'name'>,
    );
  }
  return {
    ...route,
    ...(traffic ? { traffic } : {}),
    ...(retry && !route.retry && !ai ? { retry } : {}),
    ...(timeout?.requestMs !== undefined && route.timeouts?.requestMs === undefined && !ai
      ? { timeouts: { ...route.timeouts, requestMs: timeout.requestMs } }
      : {}),
  };
}

/**
 * The policy's connection timeouts toward a route's Service backends: pools are per cluster, so the
 * route's backends point at a variant of each cluster carrying the timeouts (`<cluster>#connect=…`),
 * added to the config once and shared by every route with the same settings.
 */
function withConnectionTimeouts(
  route: Route,
  won: Map<Group, { policy: PreparedPolicy }>,
  config: ProxyConfig,
): Route {
  const t = won.get('timeout')?.policy.parts.timeout;
  if (!t || (t.connectMs === undefined && t.idleMs === undefined) || route.aiBackends !== undefined)
    return route;
  const suffix = `#connect=${t.connectMs ?? ''}&idle=${t.idleMs ?? ''}`;
  const variant = (name: string | undefined) => {
    if (name === undefined) return undefined;
    const variantName = `${name}${suffix}`;
    if (!config.clusters.some((c) => c.name === variantName)) {
      const base = config.clusters.find((c) => c.name === name);
      if (!base) return name;
      config.clusters.push({
        ...base,
        name: variantName,
        ...(t.connectMs !== undefined ? { connectTimeoutMs: t.connectMs } : {}),
        ...(t.idleMs !== undefined ? { idleTimeoutMs: t.idleMs } : {}),
      });
    }
    return variantName;
  };
  return {
    ...route,
    backends: route.backends.map((b) =>
      b.cluster === undefined ? b : { ...b, cluster: variant(b.cluster)! },
    ),
  };
}

const CODING = { Gzip: 'gzip', Brotli: 'br', Zstd: 'zstd' } as const;
/** Envoy Gateway's compression list; the floor defaults to Envoy's 30 bytes. */
function compressionOf(spec: NonNullable<BackendTrafficPolicy['spec']['compression']>): Compression {
  const floor = spec.find((c) => c.minContentLength !== undefined)?.minContentLength;
  const minLength = floor === undefined ? 30 : quantityBytes(floor);
  return { codings: [...new Set(spec.map((c) => CODING[c.type]))], minLength };
}

/** Envoy Gateway's fault injection; a percentage left out means every request. */
function faultsOf(spec: NonNullable<BackendTrafficPolicy['spec']['faultInjection']>): FaultInjection {
  return {
    ...(spec.delay
      ? { delay: { ms: durationMs(spec.delay.fixedDelay), percent: spec.delay.percentage ?? 100 } }
      : {}),
    ...(spec.abort
      ? {
          abort: {
            ...(spec.abort.httpStatus !== undefined ? { httpStatus: spec.abort.httpStatus } : {}),
            ...(spec.abort.grpcStatus !== undefined ? { grpcStatus: spec.abort.grpcStatus } : {}),
            percent: spec.abort.percentage ?? 100,
          },
        }
      : {}),
  };
}

function loadBalancerOf(spec: NonNullable<BackendTrafficPolicy['spec']['loadBalancer']>): LoadBalancer {
  const ch = spec.consistentHash;
  return {
    type: spec.type,
    ...(ch
      ? {
          hashOn: {
            type: ch.type,
            ...(ch.header ? { name: ch.header.name } : {}),
            ...(ch.cookie ? { name: ch.cookie.name } : {}),
            ...(ch.cookie?.ttl ? { cookieTtlSeconds: Math.floor(durationMs(ch.cookie.ttl) / 1000) } : {}),
            ...(ch.cookie?.attributes ? { cookieAttributes: ch.cookie.attributes } : {}),
          },
        }
      : {}),
    ...(spec.slowStart && durationMs(spec.slowStart.window) > 0
      ? { slowStartWindowMs: durationMs(spec.slowStart.window) }
      : {}),
  };
}

/** Envoy Gateway's defaults: probes every 3 s with a 1 s timeout, 3 failures down, 1 pass up; 5 × 5xx eject for 30 s, 10% at most. */
function healthCheckOf(spec: NonNullable<BackendTrafficPolicy['spec']['healthCheck']>): HealthCheck {
  const a = spec.active;
  const p = spec.passive;
  const hex = (payload: { type: string; text?: string; binary?: string } | undefined) =>
    payload === undefined
      ? undefined
      : payload.type === 'Text'
        ? Buffer.from(payload.text ?? '').toString('hex')
        : Buffer.from(payload.binary ?? '', 'base64').toString('hex');
  const expectedBody = hex(a?.http?.expectedResponse);
  const send = hex(a?.tcp?.send);
  const receive = hex(a?.tcp?.receive);
  return {
    ...(a
      ? {
          active: {
            type: a.type,
            intervalMs: a.interval ? Math.max(10, durationMs(a.interval)) : 3000,
            timeoutMs: a.timeout ? Math.max(1, durationMs(a.timeout)) : 1000,
            unhealthyThreshold: a.unhealthyThreshold ?? 3,
            healthyThreshold: a.healthyThreshold ?? 1,
            ...(a.http
              ? {
                  http: {
                    path: a.http.path,
                    method: a.http.method ?? 'GET',
                    expectedStatuses: a.http.expectedStatuses?.length ? a.http.expectedStatuses : [200],
                    ...(expectedBody !== undefined ? { expectedBodyHex: expectedBody } : {}),
                  },
                }
              : {}),
            ...(a.type === 'TCP'
              ? {
                  tcp: {
                    ...(send !== undefined ? { sendHex: send } : {}),
                    ...(receive !== undefined ? { receiveHex: receive } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(p
      ? {
          passive: {
            consecutive5xx: p.consecutive5XxErrors ?? 5,
            consecutiveGatewayErrors: p.consecutiveGatewayErrors ?? 0,
            consecutiveLocalOriginFailures: p.consecutiveLocalOriginFailures ?? 5,
            splitExternalLocalOriginErrors: p.splitExternalLocalOriginErrors ?? false,
            baseEjectionMs: p.baseEjectionTime ? Math.max(1, durationMs(p.baseEjectionTime)) : 30_000,
            maxEjectionPercent: p.maxEjectionPercent ?? 10,
          },
        }
      : {}),
  };
}

function rateLimitRule(rule: RateLimitRuleSpec): RateLimitRule {
  return {
    clientSelectors: (rule.clientSelectors ?? []).map(
      (s): RateLimitSelector => ({
        ...(s.headers
          ? {
              headers: s.headers.map((h) => ({
                name: h.name,
                type: h.type ?? 'Exact',
                ...(h.value !== undefined ? { value: h.value } : {}),
                ...(h.invert ? { invert: true } : {}),
              })),
            }
          : {}),
        ...(s.methods
          ? { methods: s.methods.map((m) => ({ value: m.value, ...(m.invert ? { invert: true } : {}) })) }
          : {}),
        ...(s.path
          ? {
              path: {
                type: s.path.type ?? 'PathPrefix',
                value: s.path.value,
                ...(s.path.invert ? { invert: true } : {}),
              },
            }
          : {}),
        ...(s.sourceCIDR
          ? {
              sourceCIDR: {
                type: s.sourceCIDR.type ?? 'Exact',
                value: s.sourceCIDR.value,
                ...(s.sourceCIDR.invert ? { invert: true } : {}),
              },
            }
          : {}),
      }),
    ),
    requests: rule.limit.requests,
    unitSeconds: UNIT_SECONDS[rule.limit.unit],
    ...(rule.shared ? { shared: true } : {}),
    ...(rule.shadowMode ? { shadowMode: true } : {}),
  };
}

/** Envoy Gateway's defaults: 2 retries on connection failures and 503, back-off from 25 ms. */
function retryOf(spec: NonNullable<BackendTrafficPolicy['spec']['retry']>): Retry {
  const base = spec.perRetry?.backOff?.baseInterval
    ? durationMs(spec.perRetry.backOff.baseInterval)
    : DEFAULT_BACKOFF_BASE_MS;
  const max = spec.perRetry?.backOff?.maxInterval ? durationMs(spec.perRetry.backOff.maxInterval) : base * 10;
  const triggers = spec.retryOn?.triggers ?? ['connect-failure', 'retriable-status-codes'];
  return {
    numRetries: spec.numRetries ?? DEFAULT_RETRIES,
    triggers: triggers as Retry['triggers'],
    statusCodes: spec.retryOn?.httpStatusCodes ?? [503],
    ...(spec.perRetry?.timeout ? { perRetryTimeoutMs: durationMs(spec.perRetry.timeout) } : {}),
    backOffBaseMs: base,
    backOffMaxMs: max,
  };
}
