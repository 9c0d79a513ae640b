import { type Balancer, compileBalancer, sessionBalancer } from '../balance/endpoint-balancer.ts';
import type { Route } from '../config/schema.ts';
import type { CircuitBreaker, Compression, Traffic } from '../config/traffic.ts';
import { compileOverrides, type Replacement } from '../filters/response-override.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import type { ResilientStore } from '../ratelimit/resilient-store.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { ActiveHealthChecks } from './active-health.ts';
import { BreakerGate } from './circuit-breaker.ts';
import { compileFaults, type InjectedFault } from './fault-injection.ts';
import { OutlierDetector } from './outlier-detection.ts';
import { RouteRateLimit } from './rate-limit.ts';
import { RetryPolicy } from './retry-policy.ts';
import { type GlobalLease, type LocalCount, WindowTable } from './window-table.ts';

/**
 * What outlives config swaps: local rate-limit counts, global-limit leases, circuit-breaker counts and
 * active health probers. A reload must not hand every client a fresh allowance, forget the requests
 * still running on a backend, nor forget which endpoints are down.
 */
export class TrafficState {
  readonly counts = new WindowTable<LocalCount>(() => ({ used: 0 }));
  readonly leases = new WindowTable<GlobalLease>(() => ({
    left: 0,
    seen: 0,
    exhausted: false,
    fetching: undefined,
  }));
  readonly #gates = new Map<string, BreakerGate>();
  readonly store: ResilientStore;
  /** The pod's counters when several worker processes serve it: local rate limits count there. */
  readonly podStore: ResilientStore | undefined;
  readonly metrics: ProxyMetrics;
  readonly activeChecks: ActiveHealthChecks;

  constructor(store: ResilientStore, metrics: ProxyMetrics, podStore?: ResilientStore) {
    this.store = store;
    this.podStore = podStore;
    this.metrics = metrics;
    this.activeChecks = new ActiveHealthChecks(metrics.health);
  }

  /** The gate for `key`, kept while its thresholds stay the same. */
  gate(key: string, limits: CircuitBreaker): BreakerGate {
    let gate = this.#gates.get(key);
    if (!gate?.sameLimits(limits)) {
      gate = new BreakerGate(limits);
      this.#gates.set(key, gate);
    }
    return gate;
  }

  /** Forgets gates no config names any more (called after each compile with the keys it used). */
  retainGates(keys: ReadonlySet<string>): void {
    for (const key of this.#gates.keys()) if (!keys.has(key)) this.#gates.delete(key);
  }
}

/** A route's traffic controls, compiled with the snapshot; each absent when not configured. */
export interface RouteTraffic {
  /** For metrics and logs: the entry's name (the policies it came from). */
  policy: string;
  rateLimit: RouteRateLimit | undefined;
  /** The circuit breaker toward one backend (by cluster or AI backend name). */
  breaker: ((backend: string) => BreakerGate) | undefined;
  /** How an endpoint of the picked backend is chosen; round-robin when absent. */
  balancer: Balancer | undefined;
  /** Passive health checking of the endpoints this route's requests reach. */
  outliers: OutlierDetector | undefined;
  /** A fault drill: what to inject into this request, if anything. */
  fault: (() => InjectedFault | undefined) | undefined;
  /** Answers compressed for clients that accept one of these codings. */
  compression: Compression | undefined;
  /** The gateway's own answer for some statuses, instead of the backend's or its own error. */
  override: ((status: number) => Replacement | undefined) | undefined;
}

/**
 * Compiles the traffic controls of a config's routes: one RouteRateLimit per route (so non-shared
 * rules count per route object), gates per route rule and backend. Collects the gate keys used so
 * the state can drop the rest once the snapshot is live.
 */
export class TrafficCompiler {
  readonly #entries: ReadonlyMap<string, Traffic>;
  readonly #state: TrafficState;
  readonly #clusters: ReadonlyMap<string, UpstreamCluster>;
  readonly gateKeys = new Set<string>();
  /** The active probers this config needs (the state stops the others once it is live). */
  readonly proberIds = new Set<string>();

  constructor(
    entries: readonly Traffic[] | undefined,
    state: TrafficState,
    clusters: ReadonlyMap<string, UpstreamCluster>,
  ) {
    this.#entries = new Map((entries ?? []).map((t) => [t.name, t]));
    this.#state = state;
    this.#clusters = clusters;
  }

  forRoute(route: Route): RouteTraffic | undefined {
    const entry = route.traffic === undefined ? undefined : this.#entries.get(route.traffic);
    if (!entry) return undefined;
    const ref = route.ref;
    const object = `${ref.kind}/${ref.namespace}/${ref.name}`;
    const rl = entry.rateLimit;
    const rateLimit =
      rl && (rl.local || rl.global)
        ? new RouteRateLimit(
            {
              local: rl.local ?? [],
              global: rl.global?.rules ?? [],
              failureMode: rl.global?.failureMode ?? 'FailOpen',
            },
            { route: object, policy: rl.policy },
            {
              counts: this.#state.counts,
              leases: this.#state.leases,
              store: this.#state.store,
              podStore: this.#state.podStore,
              metrics: this.#state.metrics.rateLimits,
            },
          )
        : undefined;
    const limits = entry.circuitBreaker;
    let breaker: RouteTraffic['breaker'];
    if (limits) {
      const gates = new Map<string, BreakerGate>();
      breaker = (backend) => {
        let gate = gates.get(backend);
        if (!gate) {
          const key = `${entry.name}|${object}/${ref.rule}|${backend}`;
          gate = this.#state.gate(key, limits);
          this.gateKeys.add(key);
          gates.set(backend, gate);
        }
        return gate;
      };
      // Every backend the route names is known now: bind their gates at compile time.
      for (const b of [
        ...route.backends.map((x) => x.cluster),
        ...(route.aiBackends ?? []).map((x) => x.aiBackend),
      ])
        if (b !== undefined) breaker(b);
    }
    const active = entry.healthCheck?.active;
    if (active)
      for (const b of route.backends) {
        const cluster = b.cluster === undefined ? undefined : this.#clusters.get(b.cluster);
        for (const endpoint of cluster?.endpoints ?? [])
          this.proberIds.add(this.#state.activeChecks.ensure(endpoint, active));
      }
    const passive = entry.healthCheck?.passive;
    return {
      policy: entry.name,
      rateLimit,
      breaker,
      balancer: entry.loadBalancer ? compileBalancer(entry.loadBalancer) : undefined,
      outliers: passive ? new OutlierDetector(passive, this.#state.metrics.health) : undefined,
      fault: entry.faultInjection ? compileFaults(entry.faultInjection) : undefined,
      compression: entry.compression,
      override: entry.responseOverride ? compileOverrides(entry.responseOverride) : undefined,
    };
  }
}

/** What a route does about its backends beyond routing: traffic controls, retries, endpoint choice. */
export interface RouteControls {
  traffic: RouteTraffic | undefined;
  retry: RetryPolicy | undefined;
  /** Session persistence (the route's own field) or the policy's load balancer; round-robin when absent. */
  balancer: Balancer | undefined;
}

/**
 * The controls of every route that has any, by compiled route. Kept beside the routing table (not in
 * it) so routing stays unaware of traffic policy; a route without controls costs one failed lookup.
 */
export function compileControls(
  routes: Iterable<{ source: Route }>,
  compiler: TrafficCompiler,
): Map<object, RouteControls> {
  const controls = new Map<object, RouteControls>();
  for (const route of routes) {
    const traffic = compiler.forRoute(route.source);
    const retry =
      route.source.retry && route.source.retry.numRetries > 0
        ? new RetryPolicy(route.source.retry)
        : undefined;
    const session = route.source.sessionPersistence;
    const balancer = session ? sessionBalancer(session) : traffic?.balancer;
    if (traffic || retry || balancer) controls.set(route, { traffic, retry, balancer });
  }
  return controls;
}
