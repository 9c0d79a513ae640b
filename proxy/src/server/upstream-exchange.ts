import type { IncomingMessage } from 'node:http';
import type { Dispatcher } from 'undici';
import type { BalanceInput, Balancer } from '../balance/endpoint-balancer.ts';
import type { ErrorCode } from '../errors/catalog.ts';
import type { HeaderBag } from '../filters/header-modifier.ts';
import { rewritePath } from '../filters/path-rewrite.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { CompiledRoute, ListenerRouter } from '../routing/router.ts';
import type { UpstreamCluster } from '../upstream/cluster.ts';
import { CLIENT_CERT, forwardableHeaders } from '../upstream/hop-by-hop.ts';
import { onEndpoint, type UpstreamEndpoint } from '../upstream/pool-registry.ts';
import type { ServedPort } from './listener-state.ts';

/**
 * What every forwarding path (HTTP/1.1, HTTP/2 and gRPC, upgrades) sends upstream for a matched
 * route, decided in one place so the three cannot drift: the picked endpoint (whose pool carries the
 * BackendTLSPolicy), the path and Host after URLRewrite, the client's headers through the route's
 * header filters with X-Forwarded-* and the client-certificate header, and the route's timeout.
 */
export interface Exchange {
  /** The backend picked by weight; retries pick their endpoint from it again. */
  cluster: UpstreamCluster;
  endpoint: UpstreamEndpoint;
  /** The cluster speaks HTTP/2 in cleartext (appProtocol kubernetes.io/h2c, GRPCRoute backends). */
  h2c: boolean;
  method: string;
  /** Path and query as the upstream gets them. */
  path: string;
  headers: HeaderBag;
  /** Gateway API `timeouts`: the shorter of request and backendRequest. */
  timeoutMs: number | undefined;
  /** The route's load balancer and what it keys on, for retries to pick again; absent: round-robin. */
  balancer: Balancer | undefined;
  balanceInput: BalanceInput | undefined;
  /** A session cookie or header the balancer issued, to add to the answer. */
  answerHeader: [string, string] | undefined;
}

export function prepareExchange(
  raw: IncomingMessage,
  router: ListenerRouter,
  route: CompiledRoute,
  view: RequestView,
  balancer: Balancer | undefined,
): Exchange | ErrorCode {
  const picked = route.pick();
  if (!picked) return 'backend_invalid';
  const { cluster } = picked;
  let endpoint: UpstreamEndpoint | undefined;
  let answerHeader: [string, string] | undefined;
  let balanceInput: BalanceInput | undefined;
  if (balancer) {
    balanceInput = {
      clientAddress: router.clientAddress(raw) ?? raw.socket.remoteAddress ?? '',
      headers: raw.headers,
    };
    const chosen = balancer.pick(cluster, balanceInput);
    endpoint = chosen?.endpoint;
    answerHeader = chosen?.answerHeader;
  } else endpoint = cluster.pick();
  if (!endpoint) return 'no_healthy_upstream';
  const { path, headers } = upstreamRequest(raw, router, route, view);
  picked.editRequestHeaders?.(headers);
  const t = route.source.timeouts;
  return {
    cluster,
    endpoint,
    h2c: cluster.h2c,
    method: view.method,
    path,
    headers,
    timeoutMs: minDefined(t?.requestMs, t?.backendRequestMs),
    balancer,
    balanceInput,
    answerHeader,
  };
}

/** Another endpoint of the exchange's backend for a retry, picked the way the first one was. */
export function repick(exchange: Exchange, avoid: UpstreamEndpoint): UpstreamEndpoint | undefined {
  if (!exchange.balancer) return exchange.cluster.pick(avoid);
  return exchange.balancer.pick(exchange.cluster, exchange.balanceInput!, avoid)?.endpoint;
}

/**
 * The path (with query) and headers after the route's filters: the client's headers (see
 * `upstreamHeaders`) through its header modifier, the path and host after its URLRewrite.
 */
function upstreamRequest(
  raw: IncomingMessage,
  router: ListenerRouter,
  route: CompiledRoute,
  view: RequestView,
): { path: string; headers: HeaderBag } {
  const headers = upstreamHeaders(raw, router);
  route.editRequestHeaders?.(headers);
  const src = route.source;
  let path = view.path;
  if (src.rewrite) {
    if (src.rewrite.path) path = rewritePath(path, src.rewrite.path, src.match.path.value);
    if (src.rewrite.hostname) headers.host = src.rewrite.hostname;
  }
  return { path: view.rawQuery ? `${path}?${view.rawQuery}` : path, headers };
}

/**
 * The headers an upstream gets: the client's minus hop-by-hop ones, with X-Forwarded-For and -Proto,
 * and X-Forwarded-Client-Cert as the listener says (by default, naming a verified client certificate).
 */
function upstreamHeaders(raw: IncomingMessage, router: ListenerRouter): HeaderBag {
  const headers = forwardableHeaders(raw.headers);
  const clientIp = raw.socket.remoteAddress ?? '';
  const priorXff = raw.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = priorXff ? `${priorXff}, ${clientIp}` : clientIp;
  headers['x-forwarded-proto'] ??= router.scheme;
  // forwardableHeaders already dropped any client-sent one (no `delete` here: it would slow the object).
  if (router.forwardedClientCert) {
    const value = router.forwardedClientCert(raw.socket, raw.headers[CLIENT_CERT] as string | undefined);
    if (value) headers[CLIENT_CERT] = value;
  }
  return headers;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * Fire-and-forget copies of a request with a buffered body: a mirror's answer is discarded and its
 * failure never touches the client. Each copy holds its snapshot (and so its pool) like the request.
 */
export function mirror(
  route: CompiledRoute,
  exchange: Exchange,
  body: Buffer | undefined,
  served: Pick<ServedPort, 'enter' | 'leave'>,
): void {
  for (const m of route.mirrors) {
    if (m.percent < 100 && Math.random() * 100 >= m.percent) continue;
    const endpoint = m.cluster.pick();
    if (!endpoint) {
      route.metrics.mirrorFailed();
      continue;
    }
    served.enter();
    endpoint.pool
      .request({
        ...onEndpoint(endpoint, {
          path: exchange.path,
          method: exchange.method as Dispatcher.HttpMethod,
          headers: exchange.headers as Record<string, string | string[]>,
          body: body ?? null,
        }),
        signal: AbortSignal.timeout(30_000),
      })
      .then((res) => res.body.dump())
      .catch(() => route.metrics.mirrorFailed())
      .finally(served.leave);
  }
}
