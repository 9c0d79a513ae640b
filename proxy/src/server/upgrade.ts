import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors/catalog.ts';
import type { HeaderBag } from '../filters/header-modifier.ts';
import { requestView } from '../routing/request-view.ts';
import { forwardableHeaders } from '../upstream/hop-by-hop.ts';
import { rawResponse } from './client-errors.ts';
import { upstreamRequest } from './forward.ts';
import type { ListenerState } from './listener-state.ts';
import { requestTarget } from './request-target.ts';

/**
 * WebSocket (and other HTTP/1.1 Upgrade) pass-through. The request is routed and rewritten like any
 * other, then sent upstream on a connection of its own (TLS when the endpoint is, verified as its
 * BackendTLSPolicy says). Only a 101 whose Upgrade names the protocol the client asked for turns the
 * two connections into a tunnel; any other answer is relayed and both connections close, so bytes the
 * client sent after its request head (a smuggled second request) never reach the upstream.
 */
export function upgradeHandler(state: ListenerState) {
  return (req: IncomingMessage, client: Socket, head: Buffer): undefined => {
    client.on('error', () => client.destroy());
    const refuse = (code: ErrorCode): undefined => {
      client.end(rawResponse(code));
    };
    const target = requestTarget(req);
    if (!target.ok) return refuse(target.error);
    const router = state.current().router;
    const view = requestView(req.method ?? 'GET', target.url, req.headers);
    const route = router.select(target.host, view);
    if (!route || route.source.redirect || route.pickAIBackend) return refuse('route_not_found');
    const cluster = route.pick();
    if (!cluster) return refuse('backend_invalid');
    const endpoint = cluster.pick();
    if (!endpoint) return refuse('no_healthy_upstream');

    const { path, headers } = upstreamRequest(req, router, route, view);
    const protocol = req.headers.upgrade ?? '';
    headers.connection = 'Upgrade';
    headers.upgrade = protocol;
    const send = endpoint.tls ? httpsRequest : httpRequest;
    const upstreamReq = send({
      ...endpoint.tls,
      host: endpoint.host,
      port: endpoint.port,
      method: view.method,
      path,
      headers: headers as OutgoingHttpHeaders,
      agent: false,
    });
    const timeoutMs = route.source.timeouts?.requestMs;
    let answered = false;
    let timedOut = false;
    const timer = timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          upstreamReq.destroy();
        }, timeoutMs)
      : undefined;
    client.once('close', () => {
      clearTimeout(timer);
      upstreamReq.destroy();
    });

    upstreamReq.on('upgrade', (res, upstream, upstreamHead) => {
      clearTimeout(timer);
      answered = true;
      upstream.on('error', () => upstream.destroy());
      if (!sameProtocol(protocol, res.headers.upgrade)) {
        upstream.destroy();
        return refuse('upstream_unreachable');
      }
      const out = forwardableHeaders(res.headers);
      route.editResponseHeaders?.(out);
      out.connection = 'Upgrade';
      out.upgrade = res.headers.upgrade;
      client.write(responseHead(101, res.statusMessage, out));
      if (upstreamHead.length > 0) client.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });

    upstreamReq.on('response', (res) => {
      clearTimeout(timer);
      answered = true;
      // Not switching protocols: this answer is the whole exchange. Close-delimited unless it has a length.
      const out = forwardableHeaders(res.headers);
      route.editResponseHeaders?.(out);
      out.connection = 'close';
      client.write(responseHead(res.statusCode ?? 502, res.statusMessage, out));
      res.on('error', () => client.destroy());
      res.pipe(client);
    });

    upstreamReq.on('error', () => {
      clearTimeout(timer);
      if (!answered && client.writable) refuse(timedOut ? 'upstream_timeout' : 'upstream_unreachable');
      else client.destroy();
    });
    upstreamReq.end();
  };
}

/** Did the upstream switch to (one of) the protocol(s) the client asked for? Tokens are case-insensitive. */
function sameProtocol(asked: string | string[], answered: string | undefined): boolean {
  if (!answered) return false;
  const offered = new Set(
    [asked]
      .flat()
      .flatMap((v) => v.split(','))
      .map((t) => t.trim().toLowerCase()),
  );
  return answered
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .every((t) => offered.has(t));
}

function responseHead(status: number, message: string | undefined, headers: HeaderBag): string {
  const lines = [`HTTP/1.1 ${status} ${message ?? ''}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
