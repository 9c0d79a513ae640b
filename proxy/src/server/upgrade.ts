import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorCode, errorCatalog } from '../errors/catalog.ts';
import { rawErrorResponse } from '../errors/render.ts';
import { requestView } from '../routing/request-view.ts';
import { observeUpgrade, propagate, type Telemetry } from '../telemetry/request-telemetry.ts';
import { UpstreamFailure } from '../upstream/relay.ts';
import { relayUpgrade } from '../upstream/upgrade-relay.ts';
import type { ListenerState } from './listener-state.ts';
import { misdirected, requestTarget } from './request-target.ts';
import { prepareExchange } from './upstream-exchange.ts';

/**
 * WebSocket (and other HTTP/1.1 Upgrade) pass-through: routed and prepared like any other request
 * (the same exchange: filters, rewrites, X-Forwarded-*, client-certificate header, timeout), then
 * sent on the endpoint's pool, so TLS and BackendTLSPolicy verification are those of every request.
 * The route's SecurityPolicy admits the upgrade first: a socket is never tunnelled past it. (An
 * external authorizer's own denial answers as a plain 403 here: there is no response object to
 * relay it on.)
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
    if (misdirected(served, req, target.host)) return refuse('misdirected_request');
    const router = served.router;
    const view = requestView(req.method ?? 'GET', target.url, req.headers);
    const selected = router.select(target.host, view);
    if (!selected || selected.source.redirect || selected.pickAIBackend) return refuse('route_not_found');
    const route = selected;
    if (observed) observed.record.route = route.name;
    served.enter();
    void admit()
      .then((refusal) => (refusal ? refuse(refusal) : tunnel()))
      .catch(() => refuse('internal_error'))
      .finally(served.leave);

    async function admit(): Promise<ErrorCode | undefined> {
      const name = route.source.security;
      if (name === undefined) return undefined;
      const address = router.clientAddress(req);
      if (address === undefined) return 'forbidden';
      const outcome = await served.security.get(name)!.check(req, view, address, router.scheme);
      // No response object here: a reply of the policy's own (a denial, a login redirect) is a plain refusal.
      return outcome.ok ? undefined : 'code' in outcome ? outcome.code : 'forbidden';
    }

    async function tunnel(): Promise<undefined> {
      // WebSockets balance like requests (a consistent hash keeps a client on its endpoint).
      const exchange = prepareExchange(req, router, route, view, served.controls.get(route)?.balancer);
      if (typeof exchange === 'string') return refuse(exchange);
      propagate(observed, exchange.headers);
      await relayUpgrade({
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
      }).catch((err: unknown) => {
        if (!client.writable) return void client.destroy();
        refuse(err instanceof UpstreamFailure && err.timedOut ? 'upstream_timeout' : 'upstream_unreachable');
      });
    }
  };
}
