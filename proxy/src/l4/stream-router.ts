import { weightedPicker } from '../balance/weighted-pick.ts';
import type { Listener, StreamRoute } from '../config/schema.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';

export interface StreamTarget {
  host: string;
  port: number;
  /** The route that matched, for logs and metrics. */
  route: string;
}

interface CompiledStreamRoute {
  name: string;
  pick: () => UpstreamCluster | null | undefined;
}

/**
 * Where a TCP, UDP or TLS-passthrough connection goes, compiled once per config: TLS routes by SNI
 * (exact hostname, then the longest wildcard, then routes without hostnames), TCP and UDP to the
 * listener's route. Weights pick a backend; the cluster picks an endpoint.
 */
export class StreamRouter {
  readonly listener: Listener;
  readonly #exact = new Map<string, CompiledStreamRoute>();
  readonly #wildcards: { suffix: string; route: CompiledStreamRoute }[] = [];
  #any: CompiledStreamRoute | undefined;

  constructor(listener: Listener, clusters: ReadonlyMap<string, UpstreamCluster>) {
    this.listener = listener;
    for (const r of listener.streamRoutes ?? []) {
      const compiled = compile(r, clusters);
      if (r.hostnames.length === 0) this.#any ??= compiled;
      for (const h of r.hostnames) {
        if (h.startsWith('*.')) this.#wildcards.push({ suffix: h.slice(1), route: compiled });
        else if (!this.#exact.has(h)) this.#exact.set(h, compiled);
      }
    }
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
  }

  /** The backend for a connection (with its SNI for TLS), or undefined when nothing routes it. */
  route(serverName?: string | null): StreamTarget | undefined {
    let route = serverName ? this.#exact.get(serverName) : undefined;
    if (!route && serverName)
      route = this.#wildcards.find(
        (w) => serverName.endsWith(w.suffix) && serverName.length > w.suffix.length,
      )?.route;
    route ??= this.#any;
    const endpoint = route?.pick()?.pick();
    return route && endpoint ? { host: endpoint.host, port: endpoint.port, route: route.name } : undefined;
  }
}

function compile(r: StreamRoute, clusters: ReadonlyMap<string, UpstreamCluster>): CompiledStreamRoute {
  return {
    name: r.name,
    pick: weightedPicker(
      r.backends.map((b) => ({ weight: b.weight, item: b.cluster ? clusters.get(b.cluster) : undefined })),
    ),
  };
}
