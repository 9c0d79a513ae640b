import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HeaderBag, HeaderEdit } from '../filters/header-modifier.ts';
import { timerMs } from '../timers/timer-ms.ts';
import { forwardableHeaders } from './hop-by-hop.ts';
import { onEndpoint, type UpstreamEndpoint } from './pool-registry.ts';
import { UpstreamFailure } from './relay.ts';

export interface UpgradeRelayOptions {
  /** The endpoint (its pool): the same connections, TLS and BackendTLSPolicy verification as any request. */
  endpoint: UpstreamEndpoint;
  request: { path: string; method: string; headers: HeaderBag };
  /** The protocol(s) the client asked for in its Upgrade header. */
  protocol: string;
  client: Duplex;
  /** Bytes the client sent after its request head; they go upstream only once the upgrade is accepted. */
  head: Buffer;
  editHeaders: HeaderEdit | undefined;
  /** Until the upstream answers; a tunnel, once open, lasts as long as both sides keep it. */
  timeoutMs: number | undefined;
  onStatus: (status: number) => void;
}

/**
 * An HTTP/1.1 Upgrade (WebSocket and the like) through undici's dispatcher. Only a 101 whose Upgrade
 * names a protocol the client asked for turns the two connections into a tunnel; any other answer is
 * relayed as the whole exchange and the client connection closes after it, so bytes the client sent
 * after its request head (a smuggled second request) never reach the upstream. Rejects with
 * UpstreamFailure while the client has seen nothing, so the caller can still answer with an error.
 */
export function relayUpgrade(o: UpgradeRelayOptions): Promise<void> {
  const { client } = o;
  return new Promise<void>((resolve, reject) => {
    let started = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    const onClientClose = () => controller?.abort(new Error('client closed the connection'));
    client.once('close', onClientClose);
    const done = () => {
      clearTimeout(timer);
      client.off('close', onClientClose);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (client.destroyed) c.abort(new Error('client closed the connection'));
        if (o.timeoutMs !== undefined)
          timer = setTimeout(() => {
            timedOut = true;
            c.abort(new Error(`upstream did not answer within ${o.timeoutMs} ms`));
          }, timerMs(o.timeoutMs));
      },
      onRequestUpgrade(_c, _status, headers, upstream) {
        done();
        upstream.on('error', () => upstream.destroy());
        const accepted = headerValue(headers.upgrade);
        if (!sameProtocol(o.protocol, accepted)) {
          upstream.destroy();
          return reject(new UpstreamFailure(new Error(`upstream switched to '${accepted}'`), false));
        }
        started = true;
        const out = forwardableHeaders(headers);
        o.editHeaders?.(out);
        out.connection = 'Upgrade';
        out.upgrade = accepted;
        o.onStatus(101);
        client.write(responseHead(101, 'Switching Protocols', out));
        if (o.head.length > 0) upstream.write(o.head);
        upstream.pipe(client);
        client.pipe(upstream);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        resolve();
      },
      onResponseStart(_c, statusCode, headers, statusMessage) {
        if (statusCode < 200) return;
        // Not switching protocols: this answer is the whole exchange, close-delimited unless sized.
        started = true;
        const out = forwardableHeaders(headers);
        o.editHeaders?.(out);
        out.connection = 'close';
        o.onStatus(statusCode);
        client.write(responseHead(statusCode, statusMessage, out));
      },
      onResponseData(c, chunk) {
        if (!client.write(chunk)) {
          c.pause();
          client.once('drain', () => c.resume());
        }
      },
      onResponseEnd() {
        done();
        client.end();
        resolve();
      },
      onResponseError(_c, err) {
        done();
        if (!started) return reject(new UpstreamFailure(err, timedOut));
        client.destroy();
        resolve();
      },
    };
    o.endpoint.pool.dispatch(
      onEndpoint(o.endpoint, {
        path: o.request.path,
        method: o.request.method as Dispatcher.HttpMethod,
        headers: o.request.headers as Record<string, string | string[]>,
        upgrade: o.protocol,
      }),
      handler,
    );
  });
}

function headerValue(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** Did the upstream switch to (one of) the protocol(s) the client asked for? Tokens are case-insensitive. */
function sameProtocol(asked: string, answered: string): boolean {
  if (!answered) return false;
  const offered = new Set(asked.split(',').map((t) => t.trim().toLowerCase()));
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
