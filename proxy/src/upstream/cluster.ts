import type { Cluster } from '../config/schema.ts';
import type { PoolRegistry, UpstreamEndpoint } from './pool-registry.ts';

/** A cluster ready for the hot path: endpoints resolved to pools, picked round-robin. */
export class UpstreamCluster {
  readonly name: string;
  /** Set when the backend speaks HTTP/2 in cleartext: requests go through the HTTP/2 relay. */
  readonly h2c: boolean;
  readonly endpoints: readonly UpstreamEndpoint[];
  #next = 0;

  constructor(cluster: Cluster, pools: PoolRegistry) {
    this.name = cluster.name;
    this.h2c = cluster.protocol === 'h2c';
    this.endpoints = cluster.endpoints.map((e) => pools.endpoint(e.host, e.port, cluster.tls));
  }

  pick(): UpstreamEndpoint | undefined {
    const n = this.endpoints.length;
    if (n === 0) return undefined;
    const ep = this.endpoints[this.#next % n];
    this.#next = (this.#next + 1) % n;
    return ep;
  }
}
