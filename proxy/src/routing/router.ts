import type { Listener, Route } from '../config/schema.ts';
import { compileHeaderModifier, type HeaderEdit } from '../filters/header-modifier.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import { RouteMetrics } from '../metrics/proxy-metrics.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { compileMatch, type Predicate } from './matchers.ts';
import type { RequestView } from './request-view.ts';

/** A backend pick: a cluster, or `undefined` when the weighted choice landed on an invalid reference. */
export type BackendPick = UpstreamCluster | undefined;

export interface CompiledRoute {
  name: string;
  source: Route;
  matches: Predicate;
  /** Picks a backend by weight; `null` when the route has no backend with weight (→ 500). */
  pick: () => BackendPick | null;
  mirrors: { cluster: UpstreamCluster; percent: number }[];
  editRequestHeaders: HeaderEdit | undefined;
  editResponseHeaders: HeaderEdit | undefined;
  metrics: RouteMetrics;
}

interface CompiledVirtualHost {
  hostname: string;
  routes: CompiledRoute[];
}

/**
 * One listener's routing table. Routes arrive sorted by Gateway API precedence (the translator's job),
 * so selection is: pick the virtual host by Host header, then the first route whose match holds.
 */
export class ListenerRouter {
  readonly listener: Listener;
  readonly #exact = new Map<string, CompiledVirtualHost>();
  readonly #wildcard = new Map<string, CompiledVirtualHost>();
  readonly #any: CompiledVirtualHost | undefined;
  /** Route metrics for requests that match nothing, so 404s are counted too. */
  readonly unmatchedMetrics: RouteMetrics;

  constructor(listener: Listener, clusters: ReadonlyMap<string, UpstreamCluster>, metrics: ProxyMetrics) {
    this.listener = listener;
    let any: CompiledVirtualHost | undefined;
    for (const vh of listener.virtualHosts) {
      const compiled = {
        hostname: vh.hostname,
        routes: vh.routes.map((r) =>
          compileRoute(r, clusters, new RouteMetrics(metrics, listener.name, r.name)),
        ),
      };
      if (vh.hostname === '*') any = compiled;
      else if (vh.hostname.startsWith('*.')) this.#wildcard.set(vh.hostname.slice(2), compiled);
      else this.#exact.set(vh.hostname.toLowerCase(), compiled);
    }
    this.#any = any;
    this.unmatchedMetrics = new RouteMetrics(metrics, listener.name, '');
  }

  select(hostHeader: string | undefined, req: RequestView): CompiledRoute | undefined {
    const vh = this.#virtualHost(hostHeader);
    if (!vh) return undefined;
    for (const route of vh.routes) if (route.matches(req)) return route;
    return undefined;
  }

  #virtualHost(hostHeader: string | undefined): CompiledVirtualHost | undefined {
    if (hostHeader) {
      const host = hostOnly(hostHeader);
      const exact = this.#exact.get(host);
      if (exact) return exact;
      if (this.#wildcard.size > 0) {
        // Longest wildcard first: for a.b.example.com try *.b.example.com, then *.example.com, then *.com.
        for (let dot = host.indexOf('.'); dot !== -1; dot = host.indexOf('.', dot + 1)) {
          const vh = this.#wildcard.get(host.slice(dot + 1));
          if (vh) return vh;
        }
      }
    }
    return this.#any;
  }
}

function hostOnly(hostHeader: string): string {
  const lower = hostHeader.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  const host = colon === -1 ? lower : lower.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function compileRoute(
  route: Route,
  clusters: ReadonlyMap<string, UpstreamCluster>,
  metrics: RouteMetrics,
): CompiledRoute {
  const weighted = route.backends.filter((b) => b.weight > 0);
  const targets = weighted.map((b) => (b.cluster === undefined ? undefined : clusters.get(b.cluster)));
  const cumulative: number[] = [];
  let total = 0;
  for (const b of weighted) {
    total += b.weight;
    cumulative.push(total);
  }
  let pick: () => BackendPick | null;
  if (total === 0) pick = () => null;
  else if (targets.length === 1) {
    const only = targets[0];
    pick = () => only;
  } else {
    pick = () => {
      const r = Math.random() * total;
      for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return targets[i];
      return targets[targets.length - 1];
    };
  }
  return {
    name: route.name,
    source: route,
    matches: compileMatch(route.match),
    pick,
    mirrors: route.mirrors.flatMap((m) => {
      const cluster = clusters.get(m.cluster);
      return cluster ? [{ cluster, percent: m.percent }] : [];
    }),
    editRequestHeaders: compileHeaderModifier(route.requestHeaders),
    editResponseHeaders: compileHeaderModifier(route.responseHeaders),
    metrics,
  };
}
