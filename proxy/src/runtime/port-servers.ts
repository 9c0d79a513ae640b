import type { Socket as UdpSocket } from 'node:dgram';
import type { Server, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import type { Listener } from '../config/schema.ts';
import type { StreamRouter } from '../l4/stream-router.ts';
import { createTcpServer, createUdpServer, type StreamState } from '../l4/stream-servers.ts';
import type { ListenerRouter } from '../routing/router.ts';
import { buildServer, type ServerOptions } from '../server/build-server.ts';
import type { ListenerState } from '../server/listener-state.ts';
import type { SniTable } from '../tls/sni-table.ts';

/** What one port serves after a config compiles: requests (HTTP, HTTPS) or streams (TCP, TLS, UDP). */
export type CompiledListener =
  | { kind: 'http'; listener: Listener; router: ListenerRouter; tls: SniTable | undefined }
  | { kind: 'stream'; listener: Listener; router: StreamRouter };

/** An open port whose routing is swapped in place; only a protocol change reopens it. */
export interface PortServer {
  /** What needs a new server when it changes: the protocol and the client-certificate mode. */
  shape: string;
  update(compiled: CompiledListener): void;
  /** New certificates for the next handshakes (HTTPS), from a Secret change. */
  setTls(tls: SniTable | undefined): void;
  close(): Promise<void>;
}

export function portShape(l: Listener): string {
  return `${l.protocol}|${l.tls?.clientValidation?.mode ?? ''}`;
}

/** `tcp/8080` or `udp/5353`: UDP ports are their own number space. */
export function portKey(l: Pick<Listener, 'protocol' | 'port'>): string {
  return `${l.protocol === 'UDP' ? 'udp' : 'tcp'}/${l.port}`;
}

export async function openPortServer(
  compiled: CompiledListener,
  bindAddress: string,
  serverOptions: ServerOptions,
): Promise<PortServer> {
  const { port, protocol } = compiled.listener;
  if (compiled.kind === 'http') {
    const state: ListenerState = { router: compiled.router };
    const server = buildServer(state, serverOptions);
    const setTls = (tls: SniTable | undefined) => {
      if (tls) state.tls = tls;
      else delete state.tls;
      // Clients without SNI get the hostname-less listener's certificate, set on the server itself.
      if (tls?.fallback) (server.server as unknown as TlsServer).setSecureContext(tls.fallback);
    };
    setTls(compiled.tls);
    const open = trackConnections(server.server);
    await server.listen({ port, host: bindAddress });
    return httpPortServer(portShape(compiled.listener), state, setTls, async () => {
      // In-flight requests finish first, but only for so long: a hung upstream or a client that
      // never reads must not keep a shutting-down proxy alive.
      const closed = server.close();
      const timer = setTimeout(() => {
        for (const s of open) s.destroy();
      }, serverOptions.limits.drainTimeoutMs);
      await closed;
      clearTimeout(timer);
    });
  }
  const state: StreamState = { router: compiled.router };
  if (protocol === 'UDP') {
    const socket = createUdpServer(state);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return streamPortServer(
      protocol,
      state,
      () => new Promise<void>((r) => (socket as UdpSocket).close(() => r())),
    );
  }
  const server: Server = createTcpServer(state, protocol === 'TLS', serverOptions.logger);
  const open = trackConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bindAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return streamPortServer(portShape(compiled.listener), state, async () => {
    for (const s of open) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
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

function httpPortServer(
  shape: string,
  state: ListenerState,
  setTls: (tls: SniTable | undefined) => void,
  close: () => Promise<void>,
): PortServer {
  return {
    shape,
    update(compiled) {
      if (compiled.kind !== 'http') return;
      state.router = compiled.router;
      setTls(compiled.tls);
    },
    setTls,
    close,
  };
}

function streamPortServer(shape: string, state: StreamState, close: () => Promise<void>): PortServer {
  return {
    shape,
    update(compiled) {
      if (compiled.kind === 'stream') state.router = compiled.router;
    },
    setTls() {},
    close,
  };
}
