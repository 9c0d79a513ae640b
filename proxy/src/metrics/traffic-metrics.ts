import { Counter, Gauge, type Registry } from 'prom-client';

export type RateLimitResult = 'allowed' | 'limited' | 'shadow_limited' | 'store_unavailable';

/** What BackendTrafficPolicy rate limits decided, by policy entry, scope and result. */
export class RateLimitMetrics {
  readonly #decisions: Counter<'policy' | 'scope' | 'result'>;

  constructor(registry: Registry) {
    this.#decisions = new Counter({
      name: 'sluice_rate_limit_decisions_total',
      help: 'Rate-limit rule decisions by policy, scope (local, global) and result (allowed, limited, shadow_limited, store_unavailable).',
      labelNames: ['policy', 'scope', 'result'],
      registers: [registry],
    });
  }

  /** The counters of one policy entry, bound as they are first used (no label lookup per request). */
  bind(policy: string): (scope: 'local' | 'global', result: RateLimitResult) => void {
    const bound = new Map<string, Counter.Internal>();
    return (scope, result) => {
      const key = `${scope}/${result}`;
      let child = bound.get(key);
      if (!child) {
        child = this.#decisions.labels(policy, scope, result);
        bound.set(key, child);
      }
      child.inc();
    };
  }
}

/** Retries made and circuit-breaker refusals, by policy entry (or route, for the HTTPRoute retry field). */
export class ResilienceMetrics {
  readonly retries: Counter<'route' | 'result'>;
  readonly overloaded: Counter<'policy'>;
  readonly faults: Counter<'policy' | 'fault'>;

  constructor(registry: Registry) {
    this.retries = new Counter({
      name: 'sluice_upstream_retries_total',
      help: 'Retries of failed upstream attempts by route and result (made, not_made_overflow, exhausted).',
      labelNames: ['route', 'result'],
      registers: [registry],
    });
    this.overloaded = new Counter({
      name: 'sluice_circuit_breaker_open_total',
      help: 'Requests refused by a circuit breaker (503 upstream_overloaded), by the policies it came from.',
      labelNames: ['policy'],
      registers: [registry],
    });
    this.faults = new Counter({
      name: 'sluice_fault_injections_total',
      help: 'Requests a fault drill delayed or aborted (BackendTrafficPolicy faultInjection), by policy and fault (delay, abort).',
      labelNames: ['policy', 'fault'],
      registers: [registry],
    });
  }
}

/** Endpoint health as active checks and passive outlier detection see it, by endpoint origin. */
export class HealthMetrics {
  readonly healthy: Gauge<'endpoint'>;
  readonly checks: Counter<'endpoint' | 'result'>;
  readonly ejections: Counter<'endpoint'>;

  constructor(registry: Registry) {
    this.healthy = new Gauge({
      name: 'sluice_upstream_endpoint_healthy',
      help: 'Whether the endpoint is in service (1) or skipped (0) because an active check failed or it was ejected.',
      labelNames: ['endpoint'],
      registers: [registry],
    });
    this.checks = new Counter({
      name: 'sluice_upstream_health_checks_total',
      help: 'Active health probes by endpoint and result (success, failure).',
      labelNames: ['endpoint', 'result'],
      registers: [registry],
    });
    this.ejections = new Counter({
      name: 'sluice_upstream_ejections_total',
      help: 'Endpoints ejected by passive outlier detection (consecutive 5xx, gateway errors or local failures).',
      labelNames: ['endpoint'],
      registers: [registry],
    });
  }
}
