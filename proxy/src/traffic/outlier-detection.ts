import type { HealthCheck } from '../config/traffic.ts';
import type { HealthMetrics } from '../metrics/traffic-metrics.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import type { AttemptOutcome } from '../upstream/endpoint-health.ts';
import type { UpstreamEndpoint } from '../upstream/pool-registry.ts';

/** An ejection never lasts longer than this, however often the endpoint was ejected (Envoy's default). */
const MAX_EJECTION_MS = 300_000;

/**
 * Passive health checking (Envoy's outlier detection): the answers real requests get from an endpoint
 * are counted, and an endpoint that fails `consecutive…` times in a row is ejected — skipped by every
 * route — for the base ejection time times the number of times it was ejected. A good answer resets
 * the counts. At most `maxEjectionPercent` of a backend's endpoints are out at once, but always one
 * may be.
 */
export class OutlierDetector {
  readonly #config: NonNullable<HealthCheck['passive']>;
  readonly #metrics: HealthMetrics;

  constructor(config: NonNullable<HealthCheck['passive']>, metrics: HealthMetrics) {
    this.#config = config;
    this.#metrics = metrics;
  }

  observe(endpoint: UpstreamEndpoint, cluster: UpstreamCluster, outcome: AttemptOutcome): void {
    const h = endpoint.health;
    const c = this.#config;
    if (outcome !== 'no-answer' && outcome < 500) {
      h.consecutive5xx = h.consecutiveGatewayErrors = h.consecutiveLocalFailures = 0;
      // A whole base period healthy after an ejection forgives one of them (the multiplier shrinks).
      if (h.ejections > 0 && !h.ejected && performance.now() - h.ejectedUntil > c.baseEjectionMs) {
        h.ejections--;
        h.ejectedUntil = performance.now();
      }
      return;
    }
    if (h.ejected) return;
    const local = outcome === 'no-answer';
    const gateway = local || outcome === 502 || outcome === 503 || outcome === 504;
    let tripped = false;
    if (local && c.splitExternalLocalOriginErrors) {
      h.consecutiveLocalFailures++;
      tripped ||=
        c.consecutiveLocalOriginFailures > 0 &&
        h.consecutiveLocalFailures >= c.consecutiveLocalOriginFailures;
    } else {
      h.consecutive5xx++;
      tripped ||= c.consecutive5xx > 0 && h.consecutive5xx >= c.consecutive5xx;
    }
    if (gateway) {
      h.consecutiveGatewayErrors++;
      tripped ||= c.consecutiveGatewayErrors > 0 && h.consecutiveGatewayErrors >= c.consecutiveGatewayErrors;
    }
    if (!tripped || !this.#mayEject(cluster)) return;
    h.eject(Math.min(Math.max(MAX_EJECTION_MS, c.baseEjectionMs), c.baseEjectionMs * (h.ejections + 1)));
    this.#metrics.ejections.labels(endpoint.origin).inc();
  }

  #mayEject(cluster: UpstreamCluster): boolean {
    let ejected = 0;
    for (const e of cluster.endpoints) if (e.health.ejected) ejected++;
    const allowed = Math.max(
      1,
      Math.floor((cluster.endpoints.length * this.#config.maxEjectionPercent) / 100),
    );
    return ejected < allowed;
  }
}
