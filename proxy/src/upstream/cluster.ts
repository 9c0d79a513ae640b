import type { Cluster } from '../config/schema.ts';
import { healthEpoch } from './endpoint-health.ts';
import type { PoolRegistry, UpstreamEndpoint } from './pool-registry.ts';

/**
 * A cluster ready for the hot path: endpoints resolved to pools, picked round-robin among those in
 * service. When none is in service (all failing checks or ejected), all are used: Envoy's panic mode,
 * so health checking can never make a backend less available than not checking at all.
 */
export class UpstreamCluster {
  readonly name: string;
  /** Set when the backend speaks HTTP/2 in cleartext: requests go through the HTTP/2 relay. */
  readonly h2c: boolean;
  readonly endpoints: readonly UpstreamEndpoint[];
  #usable: readonly UpstreamEndpoint[];
  #epoch = healthEpoch;
  #next = 0;

  constructor(cluster: Cluster, pools: PoolRegistry) {
    this.name = cluster.name;
    this.h2c = cluster.protocol === 'h2c';
    const timeouts = { connectMs: cluster.connectTimeoutMs, idleMs: cluster.idleTimeoutMs };
    this.endpoints = cluster.endpoints.map((e) => pools.endpoint(e.host, e.port, cluster.tls, timeouts));
    this.#usable = inService(this.endpoints);
  }

  /** The endpoints to balance over: those in service, or all of them in panic. */
  usable(): readonly UpstreamEndpoint[] {
    if (this.#epoch !== healthEpoch) {
      this.#epoch = healthEpoch;
      this.#usable = inService(this.endpoints);
    }
    return this.#usable;
  }

  /** Round-robin; `avoid` (the endpoint a retry follows) is skipped when there is another. */
  pick(avoid?: UpstreamEndpoint): UpstreamEndpoint | undefined {
    const usable = this.usable();
    const n = usable.length;
    if (n === 0) return undefined;
    let ep = usable[this.#next % n]!;
    this.#next = (this.#next + 1) % n;
    if (ep === avoid && n > 1) {
      ep = usable[this.#next % n]!;
      this.#next = (this.#next + 1) % n;
    }
    return ep;
  }
}

function inService(endpoints: readonly UpstreamEndpoint[]): readonly UpstreamEndpoint[] {
  const usable = endpoints.filter((e) => e.health.usable);
  return usable.length > 0 ? usable : endpoints;
}
