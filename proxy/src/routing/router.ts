import type { CompiledAIBackend } from '../ai/compiled-backend.ts';
import { weightedPicker } from '../balance/weighted-pick.ts';
import type { Listener, Route } from '../config/schema.ts';
import { CorsPolicy } from '../filters/cors.ts';
import { compileHeaderModifier, type HeaderEdit } from '../filters/header-modifier.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import { RouteMetrics } from '../metrics/proxy-metrics.ts';
import { type ClientAddressOf, compileClientAddress } from '../net/client-address.ts';
import { compileForwardedClientCert, type ForwardedClientCertOf } from '../tls/forwarded-client-cert.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { compileMatch, type Predicate } from './matchers.ts';
import type { RequestView } from './request-view.ts';

/**
 * A backend pick: a cluster with the backendRef's own header filter, or `undefined` when the weighted
 * choice landed on an invalid reference.
 */
export type BackendPick =
  | { cluster: UpstreamCluster; editRequestHeaders: HeaderEdit | undefined }
  | undefined;

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
  /** Cross-origin rules (SecurityPolicy cors or the HTTPRoute CORS filter). */
  cors: CorsPolicy | undefined;
  /** Present on AI routes: picks an AI backend by weight (`undefined` when none has weight). */
  pickAIBackend: (() => CompiledAIBackend | undefined) | undefined;
  /** Every AI backend of the route, weighted or not (a stored response names the one that holds it). */
  aiBackends: readonly CompiledAIBackend[];
}

interface CompiledVirtualHost {
  hostname: string;
  routes: CompiledRoute[];
  /** Client-facing model names the host's AI routes serve, for GET /v1/models. */
  models: string[];
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

  /** Whether any route serves the OpenAI-compatible API (then AI request bodies are read before matching). */
  readonly servesAI: boolean;
  /** The scheme clients used (for redirects and X-Forwarded-Proto), fixed per listener. */
  readonly scheme: 'http' | 'https';
  /** Who a request comes from: the socket peer, or what the listener's trusted proxies say. */
  readonly clientAddress: ClientAddressOf;
  /** X-Forwarded-Client-Cert for the upstream; undefined: never sent. */
  readonly forwardedClientCert: ForwardedClientCertOf | undefined;

  constructor(
    listener: Listener,
    clusters: ReadonlyMap<string, UpstreamCluster>,
    aiBackends: ReadonlyMap<string, CompiledAIBackend>,
    metrics: ProxyMetrics,
  ) {
    this.listener = listener;
    this.scheme = listener.protocol === 'HTTPS' ? 'https' : 'http';
    this.clientAddress = compileClientAddress(listener.clientIPDetection);
    this.forwardedClientCert = compileForwardedClientCert(listener);
    let any: CompiledVirtualHost | undefined;
    let servesAI = false;
    for (const vh of listener.virtualHosts) {
      const routes = vh.routes.map((r) =>
        compileRoute(r, clusters, aiBackends, new RouteMetrics(metrics, listener.name, r.name)),
      );
      const models = new Set<string>();
      for (const r of vh.routes)
        for (const b of r.aiBackends ?? [])
          for (const m of (b.aiBackend ? aiBackends.get(b.aiBackend)?.config.models : undefined) ?? [])
            models.add(m);
      servesAI ||= routes.some((r) => r.pickAIBackend !== undefined);
      const compiled: CompiledVirtualHost = { hostname: vh.hostname, routes, models: [...models].sort() };
      if (vh.hostname === '*') any = compiled;
      else if (vh.hostname.startsWith('*.')) this.#wildcard.set(vh.hostname.slice(2), compiled);
      else this.#exact.set(vh.hostname.toLowerCase(), compiled);
    }
    this.#any = any;
    this.servesAI = servesAI;
    this.unmatchedMetrics = new RouteMetrics(metrics, listener.name, '');
  }

  /** Every route of the listener, for what is compiled per route outside routing (traffic controls). */
  *routes(): Iterable<CompiledRoute> {
    const hosts = [...this.#exact.values(), ...this.#wildcard.values(), ...(this.#any ? [this.#any] : [])];
    for (const vh of hosts) yield* vh.routes;
  }

  /** Models served on the host a request names (GET /v1/models). */
  models(hostHeader: string | undefined): string[] {
    return this.#virtualHost(hostHeader)?.models ?? [];
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
  aiBackends: ReadonlyMap<string, CompiledAIBackend>,
  metrics: RouteMetrics,
): CompiledRoute {
  const pick = weightedPicker(
    route.backends.map((b) => ({
      weight: b.weight,
      item: pickedBackend(b.cluster === undefined ? undefined : clusters.get(b.cluster), b.requestHeaders),
    })),
  );
  const ai = route.aiBackends;
  const pickAI = ai
    ? weightedPicker(
        ai.map((b) => ({ weight: b.weight, item: b.aiBackend ? aiBackends.get(b.aiBackend) : undefined })),
      )
    : undefined;
  return {
    name: route.name,
    source: route,
    matches: compileMatch(route.match),
    pick,
    pickAIBackend: pickAI ? () => pickAI() ?? undefined : undefined,
    aiBackends: (ai ?? []).flatMap((b) => {
      const backend = b.aiBackend ? aiBackends.get(b.aiBackend) : undefined;
      return backend ? [backend] : [];
    }),
    mirrors: route.mirrors.flatMap((m) => {
      const cluster = clusters.get(m.cluster);
      return cluster ? [{ cluster, percent: m.percent }] : [];
    }),
    editRequestHeaders: compileHeaderModifier(route.requestHeaders),
    editResponseHeaders: compileHeaderModifier(route.responseHeaders),
    cors: route.cors ? new CorsPolicy(route.cors) : undefined,
    metrics,
  };
}

function pickedBackend(
  cluster: UpstreamCluster | undefined,
  requestHeaders: Route['backends'][number]['requestHeaders'],
): BackendPick {
  return cluster ? { cluster, editRequestHeaders: compileHeaderModifier(requestHeaders) } : undefined;
}
