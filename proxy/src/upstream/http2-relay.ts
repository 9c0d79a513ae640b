import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ClientHttp2Session,
  connect,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { HeaderBag } from '../filters/header-modifier.ts';

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

/**
 * Relays one request over HTTP/2 (h2c) to a backend: headers and body up, response headers, body and
 * trailers down, each direction streamed as it comes. For gRPC that keeps unary, server-streaming,
 * client-streaming and bidirectional calls intact, with metadata and grpc-status trailers; plain
 * HTTP requests to an h2c Service go the same way. The client may speak HTTP/1.1 or HTTP/2.
 * Resolves with the upstream's HTTP status, or rejects when the backend cannot be reached.
 */
export function relayHttp2(
  sessions: Http2Sessions,
  target: { host: string; port: number },
  req: Http2ServerRequest | IncomingMessage,
  res: Http2ServerResponse | ServerResponse,
  request: { method: string; path: string; grpc: boolean },
  headers: HeaderBag,
  editHeaders: ((h: HeaderBag) => void) | undefined,
): Promise<number> {
  const { path } = request;
  return new Promise((resolve, reject) => {
    const upstream = sessions.get(target.host, target.port).request({
      ...headers,
      // gRPC requires te: trailers end to end (a hop-by-hop header elsewhere).
      ...(request.grpc ? { te: 'trailers' } : {}),
      ':method': request.method,
      ':path': path,
      ':scheme': 'http',
      ':authority': typeof headers.host === 'string' ? headers.host : `${target.host}:${target.port}`,
    });
    let answered = false;
    upstream.on('response', (h) => {
      answered = true;
      const out: HeaderBag = {};
      for (const [k, v] of Object.entries(h)) if (!NOT_COPIED.has(k) && v !== undefined) out[k] = v as string;
      editHeaders?.(out);
      const status = Number(h[':status'] ?? 200);
      // A "trailers-only" answer (an error, usually) carries grpc-status in its one HEADERS frame,
      // which must also end the stream for the client to read it as the call's status.
      if (h['grpc-status'] !== undefined && 'stream' in res)
        res.stream.respond({ ...out, ':status': status }, { endStream: true });
      else (res as ServerResponse).writeHead(status, out as Record<string, string>);
      resolve(status);
    });
    upstream.on('trailers', (t) => {
      const trailers: Record<string, string> = {};
      for (const [k, v] of Object.entries(t))
        if (!k.startsWith(':') && v !== undefined) trailers[k] = String(v);
      res.addTrailers(trailers);
    });
    upstream.on('data', (chunk: Buffer) => (res as ServerResponse).write(chunk));
    upstream.on('end', () => {
      if (!res.writableEnded && !res.destroyed) res.end();
    });
    upstream.on('error', (err) => {
      if (!answered) reject(err);
      // The client must see the exchange fail, not end cleanly: reset (HTTP/2) or cut (HTTP/1.1).
      else if ('stream' in res) res.stream.close(2);
      else res.destroy();
    });
    req.on('data', (chunk: Buffer) => upstream.write(chunk));
    req.on('end', () => upstream.end());
    // A client that cancels the call cancels it upstream too.
    req.on('aborted', () => upstream.close(8));
    res.on('close', () => {
      if (!upstream.closed) upstream.close(8); // NGHTTP2_CANCEL
    });
  });
}
