import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import type { AccessLog } from '../telemetry/access-log.ts';
import { MovableDeadline } from '../timers/movable-deadline.ts';
import { MAX_CLIENT_HELLO_BYTES, readServerName } from './client-hello.ts';
import type { StreamRouter } from './stream-router.ts';

/** The live stream routing of one port, read per connection from the published config snapshot. */
export interface StreamState {
  readonly router: StreamRouter;
}

/** Idle TCP connections and UDP sessions end after this long without a byte either way. */
const DEFAULT_IDLE_MS = 300_000;
const UDP_SESSION_IDLE_MS = 60_000;

/**
 * TCP and TLS passthrough: each connection is piped to one backend. For TLS the proxy reads the
 * ClientHello's SNI first (never the key, never decrypting) and replays those bytes to the backend.
 * Errors on one connection close that connection only.
 */
export function createTcpServer(
  state: StreamState,
  passthrough: boolean,
  logger: FastifyBaseLogger,
  accessLog?: AccessLog,
): Server {
  const protocol = passthrough ? 'TLS' : 'TCP';
  return createServer((client) => {
    const opened = performance.now();
    client.setNoDelay(true);
    client.setTimeout(idleMs(state));
    client.on('timeout', () => client.destroy());
    client.on('error', () => client.destroy());
    const session = { accessLog, protocol, opened, listener: state.router.listener.name };
    if (!passthrough) return pipeTo(client, state.router.route(), Buffer.alloc(0), logger, session);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const name = readServerName(buffered);
      if (name === undefined && buffered.length < MAX_CLIENT_HELLO_BYTES) return;
      client.off('data', onData);
      client.pause();
      // No SNI, or bytes that are not TLS: only a hostname-less route may take it.
      pipeTo(client, state.router.route(name ?? null), buffered, logger, session);
    };
    client.on('data', onData);
  });
}

function idleMs(state: StreamState): number {
  return state.router.listener.idleTimeoutMs ?? DEFAULT_IDLE_MS;
}

/** What a TCP/TLS session's access-log line needs besides its sockets. */
interface SessionLog {
  accessLog: AccessLog | undefined;
  protocol: string;
  listener: string;
  /** performance.now() at accept. */
  opened: number;
}

function pipeTo(
  client: Socket,
  target: ReturnType<StreamRouter['route']>,
  first: Buffer,
  logger: FastifyBaseLogger,
  session: SessionLog,
): void {
  const { accessLog } = session;
  // Read now: a closed socket no longer knows its peer.
  const clientIp = client.remoteAddress ?? '';
  if (accessLog)
    client.once('close', () => {
      accessLog.write({
        time: new Date().toISOString(),
        protocol: session.protocol,
        listener: session.listener,
        client_ip: clientIp,
        route: target?.route ?? null,
        upstream: target ? `${target.host}:${target.port}` : null,
        bytes_received: client.bytesRead,
        bytes_sent: client.bytesWritten,
        duration_ms: Math.round((performance.now() - session.opened) * 1000) / 1000,
      });
    });
  if (!target) {
    client.destroy();
    return;
  }
  const upstream = connect({ host: target.host, port: target.port });
  upstream.setNoDelay(true);
  upstream.on('connect', () => {
    if (first.length > 0) upstream.write(first);
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
  upstream.on('error', (err) => {
    logger.debug({ route: target.route, err: err.message }, 'stream backend failed');
    client.destroy();
  });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}

/**
 * UDP: each client address gets its own upstream socket (a session), so answers find their way
 * back; sessions end after a minute of silence. Datagrams are relayed as they are, never merged.
 */
export function createUdpServer(
  state: StreamState,
  accessLog: AccessLog | undefined,
  reusePort: boolean,
): UdpSocket {
  const server = createSocket({ type: 'udp4', reusePort });
  const sessions = new Map<string, UdpSession>();
  const end = (key: string) => {
    const s = sessions.get(key);
    if (!s) return;
    s.idle.clear();
    s.socket.close();
    sessions.delete(key);
    accessLog?.write({
      time: new Date().toISOString(),
      protocol: 'UDP',
      listener: state.router.listener.name,
      client: key,
      route: s.route,
      upstream: s.upstream,
      datagrams_received: s.datagramsIn,
      datagrams_sent: s.datagramsOut,
      duration_ms: Math.round((performance.now() - s.opened) * 1000) / 1000,
    });
  };
  server.on('message', (msg: Buffer, from: RemoteInfo) => {
    const key = `${from.address}:${from.port}`;
    let session = sessions.get(key);
    if (!session) {
      const target = state.router.route();
      if (!target) return;
      const socket = createSocket('udp4');
      const created: UdpSession = {
        socket,
        connected: false,
        queue: [],
        idle: new MovableDeadline(() => end(key)),
        route: target.route,
        upstream: `${target.host}:${target.port}`,
        opened: performance.now(),
        datagramsIn: 0,
        datagramsOut: 0,
      };
      session = created;
      sessions.set(key, created);
      socket.on('message', (reply) => {
        created.datagramsOut++;
        server.send(reply, from.port, from.address);
        created.idle.set(UDP_SESSION_IDLE_MS);
      });
      socket.on('error', () => end(key));
      // Datagrams that arrive while the session's socket connects wait for it, in order.
      socket.connect(target.port, target.host, () => {
        created.connected = true;
        for (const queued of created.queue.splice(0)) socket.send(queued);
      });
    }
    session.datagramsIn++;
    if (session.connected) session.socket.send(msg);
    else session.queue.push(msg);
    session.idle.set(UDP_SESSION_IDLE_MS);
  });
  server.on('close', () => {
    for (const key of [...sessions.keys()]) end(key);
  });
  return server;
}

interface UdpSession {
  socket: UdpSocket;
  connected: boolean;
  queue: Buffer[];
  /** Ends the session after a minute without a datagram either way; moved by every datagram. */
  idle: MovableDeadline;
  route: string;
  upstream: string;
  opened: number;
  datagramsIn: number;
  datagramsOut: number;
}
