import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { Readable } from 'node:stream';
import type { HeaderBag } from '../filters/header-modifier.ts';
import { UpstreamFailure } from './relay.ts';

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
  body: Buffer | Readable | undefined;
  /** A gRPC call: `te: trailers` goes upstream and trailers-only answers end the stream. */
  grpc: boolean;
  editHeaders: ((h: HeaderBag) => void) | undefined;
  onStatus: (status: number) => void;
}

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
    let answered = false;
    let timedOut = false;
    const timer =
      exchange.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            upstream.close(NGHTTP2_CANCEL);
            if (!answered) reject(new UpstreamFailure(new Error('upstream did not answer in time'), true));
            else cut();
          }, exchange.timeoutMs);
    // The client must see the exchange fail, not end cleanly: reset (HTTP/2) or cut (HTTP/1.1).
    const cut = () => ('stream' in res ? res.stream.close(NGHTTP2_CANCEL) : res.destroy());
    upstream.on('response', (h) => {
      answered = true;
      const out: HeaderBag = {};
      for (const [k, v] of Object.entries(h)) if (!NOT_COPIED.has(k) && v !== undefined) out[k] = v as string;
      o.editHeaders?.(out);
      const status = Number(h[':status'] ?? 200);
      o.onStatus(status);
      // A "trailers-only" answer (an error, usually) carries grpc-status in its one HEADERS frame,
      // which must also end the stream for the client to read it as the call's status.
      if (h['grpc-status'] !== undefined && 'stream' in res)
        res.stream.respond({ ...out, ':status': status }, { endStream: true });
      else (res as ServerResponse).writeHead(status, out as Record<string, string>);
      resolve();
    });
    upstream.on('trailers', (t) => {
      const trailers: Record<string, string> = {};
      for (const [k, v] of Object.entries(t))
        if (!k.startsWith(':') && v !== undefined) trailers[k] = String(v);
      res.addTrailers(trailers);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!(res as ServerResponse).write(chunk)) {
        upstream.pause();
        res.once('drain', () => upstream.resume());
      }
    });
    upstream.on('end', () => {
      clearTimeout(timer);
      if (!res.writableEnded && !res.destroyed) res.end();
    });
    upstream.on('error', (err) => {
      clearTimeout(timer);
      if (!answered) reject(new UpstreamFailure(err, timedOut));
      else cut();
    });
    if (Buffer.isBuffer(o.body)) upstream.end(o.body);
    else (o.body ?? req).pipe(upstream);
    // A client that cancels the call cancels it upstream too.
    req.on('aborted', () => upstream.close(NGHTTP2_CANCEL));
    res.on('close', () => {
      clearTimeout(timer);
      if (!upstream.closed) upstream.close(NGHTTP2_CANCEL);
    });
  });
}
