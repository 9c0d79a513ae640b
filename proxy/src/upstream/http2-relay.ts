import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { Readable } from 'node:stream';
import type { HeaderBag } from '../filters/header-modifier.ts';
import { timerMs } from '../timers/timer-ms.ts';
import type { AttemptOutcome, EndpointHealth } from './endpoint-health.ts';
import { RetryableStatus, UpstreamFailure } from './relay.ts';
import { ReplayableBody } from './replayable-body.ts';

/**
 * One HTTP/2 (h2c) session per backend origin, reused by every request (HTTP/2 multiplexes them on a
 * connection); a session that closes or fails is replaced on the next request.
 */
export class Http2Sessions {
  readonly #sessions = new Map<string, ClientHttp2Session>();

  get(host: string, port: number): ClientHttp2Session {
    const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const existing = this.#sessions.get(origin);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = connect(origin);
    session.on('error', () => this.#sessions.delete(origin));
    session.on('close', () => {
      if (this.#sessions.get(origin) === session) this.#sessions.delete(origin);
    });
    // No open calls: the session need not keep the process alive.
    session.unref();
    this.#sessions.set(origin, session);
    return session;
  }

  closeAll(): void {
    for (const s of this.#sessions.values()) s.close();
    this.#sessions.clear();
  }
}

/** Response headers a proxy must not copy onto its own HTTP/2 response. */
const NOT_COPIED = new Set([
  ':status',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

export interface Http2RelayOptions {
  sessions: Http2Sessions;
  exchange: {
    endpoint: { host: string; port: number };
    method: string;
    path: string;
    headers: HeaderBag;
    timeoutMs: number | undefined;
  };
  req: Http2ServerRequest | IncomingMessage;
  res: Http2ServerResponse | ServerResponse;
  /**
   * The request body when it was already read (mirrors), or the stream that now yields it (part of it
   * was read); otherwise `req` is streamed up.
   */
  body: Buffer | Readable | ReplayableBody | undefined;
  /** A gRPC call: `te: trailers` goes upstream and trailers-only answers end the stream. */
  grpc: boolean;
  editHeaders: ((h: HeaderBag) => void) | undefined;
  onStatus: (status: number) => void;
  /** Statuses not to relay: the exchange is dropped and the promise rejects with RetryableStatus. */
  retryStatus?: ((status: number) => boolean) | undefined;
  /** How the attempt ended, for passive health checking: its status, or no answer. */
  onOutcome?: ((outcome: AttemptOutcome) => void) | undefined;
  /** The endpoint's record: the stream counts as in flight there until it closes (LeastRequest). */
  health?: EndpointHealth | undefined;
}

/**
 * The HTTP status a gRPC error answer counts as for retries and health checks (gRPC's own mapping
 * read backwards): UNAVAILABLE is a 503, DEADLINE_EXCEEDED a 504, RESOURCE_EXHAUSTED a 429, so
 * `retriable-status-codes: [503]`, `5xx` and `gateway-error` retry an unavailable gRPC backend.
 */
const GRPC_AS_HTTP: Record<string, number> = { '14': 503, '4': 504, '8': 429 };

/** HTTP/2 error code CANCEL: the exchange is abandoned (client gone, deadline passed). */
const NGHTTP2_CANCEL = 8;

/**
 * Relays one request over HTTP/2 (h2c) to a backend: headers and body up, response headers, body and
 * trailers down, each direction streamed as it comes with backpressure. For gRPC that keeps unary,
 * server-streaming, client-streaming and bidirectional calls intact, with metadata and grpc-status
 * trailers; plain HTTP requests to an h2c Service go the same way. The client may speak HTTP/1.1 or
 * HTTP/2. The route's timeout bounds the whole exchange, as on HTTP/1.1. Resolves once the upstream
 * answered; rejects with UpstreamFailure when it could not be reached or did not answer in time.
 */
export function relayHttp2(o: Http2RelayOptions): Promise<void> {
  const { exchange, req, res } = o;
  const { endpoint, headers } = exchange;
  return new Promise((resolve, reject) => {
    const upstream = o.sessions.get(endpoint.host, endpoint.port).request({
      ...headers,
      // gRPC requires te: trailers end to end (a hop-by-hop header elsewhere).
      ...(o.grpc ? { te: 'trailers' } : {}),
      ':method': exchange.method,
      ':path': exchange.path,
      ':scheme': 'http',
      ':authority': typeof headers.host === 'string' ? headers.host : `${endpoint.host}:${endpoint.port}`,
    });
    const health = o.health;
    if (health) {
      health.inFlight++;
      upstream.once('close', () => health.inFlight--);
    }
    let answered = false;
    let timedOut = false;
    /** Dropped for a retry or failed before answering: nothing more of it reaches the client. */
    let abandoned = false;
    const abandon = () => {
      abandoned = true;
      if (o.body instanceof ReplayableBody) o.body.detach();
    };
    const giveUp = () => {
      abandon();
      o.onOutcome?.('no-answer');
    };
    const timer =
      exchange.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            upstream.close(NGHTTP2_CANCEL);
            if (answered) return cut();
            giveUp();
            reject(new UpstreamFailure(new Error('upstream did not answer in time'), true));
          }, timerMs(exchange.timeoutMs));
    // The client must see the exchange fail, not end cleanly: reset (HTTP/2) or cut (HTTP/1.1).
    const cut = () => ('stream' in res ? res.stream.close(NGHTTP2_CANCEL) : res.destroy());
    upstream.on('response', (h) => {
      answered = true;
      const status = Number(h[':status'] ?? 200);
      const outcome = (o.grpc && GRPC_AS_HTTP[String(h['grpc-status'])]) || status;
      o.onOutcome?.(outcome);
      if (o.retryStatus?.(outcome)) {
        abandon();
        clearTimeout(timer);
        upstream.close(NGHTTP2_CANCEL);
        return reject(new RetryableStatus(outcome));
      }
      const out: HeaderBag = {};
      for (const [k, v] of Object.entries(h)) if (!NOT_COPIED.has(k) && v !== undefined) out[k] = v as string;
      o.editHeaders?.(out);
      o.onStatus(status);
      // A "trailers-only" answer (an error, usually) carries grpc-status in its one HEADERS frame,
      // which must also end the stream for the client to read it as the call's status.
      if (h['grpc-status'] !== undefined && 'stream' in res)
        res.stream.respond({ ...out, ':status': status }, { endStream: true });
      else (res as ServerResponse).writeHead(status, out as Record<string, string>);
      resolve();
    });
    upstream.on('trailers', (t) => {
      if (abandoned) return;
      const trailers: Record<string, string> = {};
      for (const [k, v] of Object.entries(t))
        if (!k.startsWith(':') && v !== undefined) trailers[k] = String(v);
      res.addTrailers(trailers);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (abandoned) return;
      if (!(res as ServerResponse).write(chunk)) {
        upstream.pause();
        res.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => {
      clearTimeout(timer);
      if (abandoned) return;
      if (!res.writableEnded && !res.destroyed) res.end();
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (abandoned) return;
      if (!answered) giveUp();
      if (!answered) reject(new UpstreamFailure(err, timedOut));
      else cut();
    });
    if (Buffer.isBuffer(o.body)) upstream.end(o.body);
    else if (o.body instanceof ReplayableBody) o.body.sendTo(upstream);
    else (o.body ?? req).pipe(upstream);
    // A client that cancels the call cancels it upstream too.
    req.on('aborted', () => upstream.close(NGHTTP2_CANCEL));
    res.on('close', () => {
      clearTimeout(timer);
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
    });
  });
}
