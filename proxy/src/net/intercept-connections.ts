import type { Socket } from 'node:net';

type ConnectionListener = (socket: Socket) => void;

/** A server whose 'connection' listeners can be taken over. */
export interface ConnectionServer {
  listeners(event: 'connection'): ((...args: never) => unknown)[];
  removeAllListeners(event: 'connection'): unknown;
  on(event: 'connection', listener: ConnectionListener): unknown;
}

/**
 * Puts `gate` in front of every 'connection' listener the server has now: each new socket goes to the
 * gate, which hands it over to them (now or later) or never does. Used for what must happen before
 * the server reads a byte (the PROXY protocol header, refusing connections beyond a limit).
 */
export function interceptConnections(
  server: ConnectionServer,
  gate: (socket: Socket, handOver: (socket: Socket) => void) => void,
): void {
  const downstream = server.listeners('connection') as ConnectionListener[];
  server.removeAllListeners('connection');
  const handOver = (socket: Socket) => {
    for (const l of downstream) l.call(server, socket);
  };
  server.on('connection', (socket: Socket) => gate(socket, handOver));
}
