import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as HttpServer } from 'node:http';
import type { Http2SecureServer, Http2Session } from 'node:http2';
import type { Server, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Listener } from '../config/schema.ts';
import { createTcpServer, createUdpServer, type StreamState } from '../l4/stream-servers.ts';
import { acceptProxyProtocol } from '../net/proxy-protocol.ts';
import { buildServer, type ServerOptions } from '../server/build-server.ts';
import { applyRequestsPerConnection, limitConnectionLifetimes } from '../server/connection-lifetime.ts';
import { delayRefusals } from '../server/connection-limit.ts';
import type { ListenerState } from '../server/listener-state.ts';
import { timerMs } from '../timers/timer-ms.ts';
import type { CompiledListener, Snapshot } from './snapshot.ts';

/** An open port; what it serves comes from the published snapshot, so only a protocol change reopens it. */
export interface PortServer {
  /** What needs a new server when it changes: the protocol and the client-certificate mode. */
  shape: string;
  /** A new snapshot was published: certificates for clients without SNI come from it. */
  published(): void;
  close(): Promise<void>;
}

/**
 * Where a port finds what to serve: the published snapshot, or for a port opened by the snapshot
 * being staged, that one (nothing else serves it yet). Undefined once neither names the port.
 */
export type SnapshotLookup = (key: string) => Snapshot | undefined;

export function portShape(l: Listener): string {
  return `${l.protocol}|${l.tls?.clientValidation?.mode ?? ''}`;
}

/** `tcp/8080` or `udp/5353`: UDP ports are their own number space. */
export function portKey(l: Pick<Listener, 'protocol' | 'port'>): string {
  return `${l.protocol === 'UDP' ? 'udp' : 'tcp'}/${l.port}`;
}

/** Where ports bind; `shared` when worker processes each open the same port (the kernel spreads connections). */
export interface PortBinding {
  address: string;
  shared: boolean;
}

export async function openPortServer(
  compiled: CompiledListener,
  binding: PortBinding,
  serverOptions: ServerOptions,
  lookup: SnapshotLookup,
): Promise<PortServer> {
  const { port, protocol } = compiled.listener;
  const key = portKey(compiled.listener);
  const shape = portShape(compiled.listener);
  if (compiled.kind === 'http') {
    // A keep-alive connection on a port the new config dropped still gets answers until it closes:
    // from the last snapshot that served the port.
    // What the port serves, refreshed whenever a snapshot is published (publication updates every
    // port in one synchronous pass, so no request sees two configs). A port the new config dropped
    // keeps the last view for its keep-alive connections until it closes.
    let current = lookup(key)?.served(key);
    if (!current) throw new Error(`no snapshot serves ${key}`);
    const state: ListenerState = { current: () => current! };
    const server = buildServer(state, serverOptions);
    const published = () => {
      current = lookup(key)?.served(key) ?? current;
      // Clients without SNI get the hostname-less listener's certificate, set on the server itself.
      const fallback = current!.tls?.fallback;
      if (fallback) (server.server as unknown as TlsServer).setSecureContext(fallback);
      applyClientLimits(server.server as unknown as HttpServer, current!.router.listener);
    };
    published();
    // Read at each connection, so a swap turns the PROXY protocol on or off without reopening the port.
    acceptProxyProtocol(
      server.server as never,
      () => current!.router.listener.proxyProtocol,
      compiled.listener.protocol === 'HTTPS',
    );
    delayRefusals(server.server as never, () => current!.router.listener);
    const open = trackConnections(server.server);
    limitConnectionLifetimes(
      server.server as unknown as HttpServer,
      () => current!.router.listener,
      compiled.listener.protocol === 'HTTPS',
    );
    server.server.on('connection', (socket: Socket) => {
      const idle = current!.router.listener.tcpKeepaliveIdleMs;
      if (idle !== undefined) socket.setKeepAlive(true, idle);
    });
    // A new HTTP/2 connection gets the connection-level window the listener asks for.
    server.server.on('session', (session: Http2Session) => {
      const window = current!.router.listener.http2?.initialConnectionWindowSize;
      if (window !== undefined) session.once('connect', () => session.setLocalWindowSize(window));
    });
    await server.listen({ port, host: binding.address, ...sharedPort(binding) });
    return {
      shape,
      published,
      close: async () => {
        // In-flight requests finish first, but only for so long: a hung upstream or a client that
        // never reads must not keep a shutting-down proxy alive.
        const closed = server.close();
        const timer = setTimeout(() => {
          for (const s of open) s.destroy();
        }, timerMs(serverOptions.limits.drainTimeoutMs));
        await closed;
        clearTimeout(timer);
      },
    };
  }
  let router = compiled.router;
  const state: StreamState = {
    get router() {
      const current = lookup(key)?.ports.get(key);
      if (current?.kind === 'stream') router = current.router;
      return router;
    },
  };
  if (protocol === 'UDP') {
    const socket = createUdpServer(state, serverOptions.telemetry?.accessLog, binding.shared);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: binding.address, exclusive: binding.shared }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return {
      shape: protocol,
      published() {},
      close: () => new Promise<void>((r) => (socket as UdpSocket).close(() => r())),
    };
  }
  const server: Server = createTcpServer(
    state,
    protocol === 'TLS',
    serverOptions.logger,
    serverOptions.telemetry?.accessLog,
  );
  const open = trackConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: binding.address, ...sharedPort(binding) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    shape,
    published() {},
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Each worker binds the port itself with SO_REUSEPORT (exclusive: not through the cluster primary),
 * so connections and datagrams are spread by the kernel and never pass through another process.
 */
function sharedPort(binding: PortBinding): { reusePort?: true; exclusive?: true } {
  return binding.shared ? { reusePort: true, exclusive: true } : {};
}

/** Node's own defaults, restored when a config stops setting them. */
const NODE_REQUEST_TIMEOUT_MS = 300_000;
const NODE_HEADERS_TIMEOUT_MS = 60_000;
const NODE_KEEP_ALIVE_TIMEOUT_MS = 5000;
const NODE_MAX_CONCURRENT_STREAMS = 4_294_967_295;
const NODE_INITIAL_WINDOW_SIZE = 65_535;

/**
 * ClientTrafficPolicy's connection limit and HTTP/1.1 timeouts, applied to the live server on every
 * publication (a swap changes them without reopening the port). Node refuses connections beyond
 * `maxConnections` as they arrive, and its timeout sweep answers a request that has not fully
 * arrived in time with 408 (HTTP/1.1 over TLS too: the HTTPS server takes it with allowHTTP1).
 * HTTP/2 streams and sessions are limited by limitHttp2RequestTime and closeIdleSessions.
 */
function applyClientLimits(server: HttpServer, listener: Listener): void {
  // With a close delay, refusals are delayRefusals' (Node's own would close at once).
  server.maxConnections = (
    listener.connectionCloseDelayMs === undefined ? listener.connectionLimit : undefined
  ) as number;
  applyRequestsPerConnection(server, listener);
  if (listener.protocol === 'HTTPS') applyHttp2Settings(server as unknown as Http2SecureServer, listener);
  const request = listener.requestReceivedTimeoutMs ?? NODE_REQUEST_TIMEOUT_MS;
  server.requestTimeout = request;
  server.headersTimeout = Math.min(NODE_HEADERS_TIMEOUT_MS, request);
  server.keepAliveTimeout = listener.idleTimeoutMs ?? NODE_KEEP_ALIVE_TIMEOUT_MS;
}

/** Servers whose HTTP/2 settings a config changed (only those are ever touched again). */
const tunedHttp2 = new WeakSet<object>();

/**
 * ClientTrafficPolicy `http2` on an HTTPS port: new connections advertise the settings a config sets.
 * A server no config ever tuned is left alone: an explicit SETTINGS value, even Node's default stream
 * limit of 2³²−1, is one clients then act on (h2spec opens that many streams). When a config stops
 * setting them, Node's defaults are advertised again.
 */
function applyHttp2Settings(server: Http2SecureServer, listener: Listener): void {
  const h2 = listener.http2;
  if (!h2 && !tunedHttp2.has(server)) return;
  tunedHttp2.add(server);
  server.updateSettings({
    maxConcurrentStreams: h2?.maxConcurrentStreams ?? NODE_MAX_CONCURRENT_STREAMS,
    initialWindowSize: h2?.initialStreamWindowSize ?? NODE_INITIAL_WINDOW_SIZE,
  });
}

/** The connections a server has open right now. */
function trackConnections(server: { on(event: 'connection', l: (s: Socket) => void): unknown }): Set<Socket> {
  const open = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  return open;
}
