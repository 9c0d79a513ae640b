import type { Socket } from 'node:net';
import type { Listener } from '../config/schema.ts';
import { type ConnectionServer, interceptConnections } from '../net/intercept-connections.ts';
import { timerMs } from '../timers/timer-ms.ts';

/**
 * Refused connections held at once (closeDelay): beyond this a flood is closed at once, so holding
 * them cannot exhaust file descriptors.
 */
const MAX_HELD = 10_000;

/**
 * ClientTrafficPolicy `connectionLimit` with a `closeDelay`: a connection beyond the limit is held,
 * unread, for the delay and then closed, so clients that reconnect at once do not spin against the
 * port. Without a delay the limit is Node's `maxConnections` (set with the other client limits),
 * which closes the connection as it is accepted. Read from the live listener at each connection.
 * Installed in front of every other connection handler, so a refused connection is never read.
 */
export function delayRefusals(server: ConnectionServer, listenerOf: () => Listener): void {
  let open = 0;
  let held = 0;
  interceptConnections(server, (socket: Socket, handOver) => {
    const { connectionLimit: limit, connectionCloseDelayMs: delay } = listenerOf();
    if (limit !== undefined && delay !== undefined && open >= limit) {
      socket.on('error', () => socket.destroy());
      socket.pause();
      if (held >= MAX_HELD) return void socket.destroy();
      held++;
      const timer = setTimeout(() => socket.destroy(), timerMs(delay));
      socket.once('close', () => {
        held--;
        clearTimeout(timer);
      });
      return;
    }
    open++;
    socket.once('close', () => open--);
    handOver(socket);
  });
}
