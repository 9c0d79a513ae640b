import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { requestView } from '../routing/request-view.ts';
import { forwardableHeaders } from '../upstream/hop-by-hop.ts';
import { rawResponse } from './client-errors.ts';
import type { ListenerState } from './listener-state.ts';

/**
 * WebSocket (and other HTTP/1.1 Upgrade) pass-through: route like any request, then splice the client
 * socket to a fresh upstream connection and copy bytes both ways until either side closes.
 */
export function upgradeHandler(state: ListenerState) {
  return (req: IncomingMessage, client: Socket, head: Buffer): void => {
    client.on('error', () => client.destroy());
    const view = requestView(req.method ?? 'GET', req.url ?? '/', req.headers);
    const route = state.router.select(req.headers.host, view);
    if (!route || route.source.redirect) return void client.end(rawResponse('route_not_found'));
    const cluster = route.pick();
    if (!cluster) return void client.end(rawResponse('backend_invalid'));
    const endpoint = cluster.pick();
    if (!endpoint) return void client.end(rawResponse('no_healthy_upstream'));

    const headers = forwardableHeaders(req.headers);
    route.editRequestHeaders?.(headers);
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade;
    const lines = [`${view.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    const upstream = connect(endpoint.port, endpoint.host);
    upstream.on('connect', () => {
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (upstream.bytesRead === 0 && client.writable) client.end(rawResponse('upstream_unreachable'));
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
}
