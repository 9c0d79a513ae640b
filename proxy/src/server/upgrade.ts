import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorCode, errorCatalog } from '../errors/catalog.ts';
import { rawErrorResponse } from '../errors/render.ts';
import { requestView } from '../routing/request-view.ts';
import { observeUpgrade, propagate, type Telemetry } from '../telemetry/request-telemetry.ts';
import { UpstreamFailure } from '../upstream/relay.ts';
import { relayUpgrade } from '../upstream/upgrade-relay.ts';
import type { ListenerState } from './listener-state.ts';
import { requestTarget } from './request-target.ts';
import { prepareExchange } from './upstream-exchange.ts';

/**
 * WebSocket (and other HTTP/1.1 Upgrade) pass-through: routed and prepared like any other request
 * (the same exchange: filters, rewrites, X-Forwarded-*, client-certificate header, timeout), then
 * sent on the endpoint's pool, so TLS and BackendTLSPolicy verification are those of every request.
 */
export function upgradeHandler(state: ListenerState, telemetry: Telemetry | undefined) {
  return (req: IncomingMessage, client: Socket, head: Buffer): undefined => {
    client.on('error', () => client.destroy());
    const started = performance.now();
    // Before routing, so the request id and trace context go upstream with the exchange's headers.
    const observed = telemetry ? observeUpgrade(telemetry, req, client, started) : undefined;
    const refuse = (code: ErrorCode): undefined => {
      observed?.answered(errorCatalog[code].status);
      client.end(rawErrorResponse(code));
    };
    const target = requestTarget(req);
    if (!target.ok) return refuse(target.error);
    const served = state.current();
    const router = served.router;
    const view = requestView(req.method ?? 'GET', target.url, req.headers);
    const route = router.select(target.host, view);
    if (!route || route.source.redirect || route.pickAIBackend) return refuse('route_not_found');
    if (observed) observed.record.route = route.name;
    const exchange = prepareExchange(req, router, route, view);
    if (typeof exchange === 'string') return refuse(exchange);
    propagate(observed, exchange.headers);
    served.enter();
    relayUpgrade({
      endpoint: exchange.endpoint,
      request: {
        path: exchange.path,
        method: exchange.method,
        headers: exchange.headers,
      },
      protocol: [req.headers.upgrade ?? ''].flat().join(', '),
      client,
      head,
      editHeaders: route.editResponseHeaders,
      timeoutMs: exchange.timeoutMs,
      onStatus: (status) => {
        observed?.answered(status);
        route.metrics.observe(status, (performance.now() - started) / 1000);
      },
    })
      .catch((err: unknown) => {
        if (!client.writable) return void client.destroy();
        refuse(err instanceof UpstreamFailure && err.timedOut ? 'upstream_timeout' : 'upstream_unreachable');
      })
      .finally(served.leave);
  };
}
