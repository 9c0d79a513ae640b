import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gatewayYaml,
  serviceRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { freePort } from '../support/ports.ts';
import { rawExchange, statuses } from '../support/raw-socket.ts';

/**
 * A keep-alive backend speaking raw HTTP/1.1 that records every request line it parses. `answer`
 * decides how it answers an upgrade request: refuse it with 200 (as a plain web server does), or
 * switch to a protocol of its choosing.
 */
function recordingBackend(answer: () => 'refuse' | { protocol: string }) {
  const seen: string[] = [];
  const server: Server = createServer((socket: Socket) => {
    let buffered = '';
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        seen.push(head.split('\r\n')[0]!);
        const a = answer();
        if (/\r\nupgrade:/i.test(head) && a !== 'refuse') {
          socket.write(
            `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${a.protocol}\r\n\r\n`,
          );
          return;
        }
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok');
      }
    });
  });
  return { server, seen };
}

describe('upgrade requests cannot smuggle a second request', () => {
  let mode: 'refuse' | { protocol: string } = 'refuse';
  const backend = recordingBackend(() => mode);
  let gw: TestGateway;
  beforeAll(async () => {
    await new Promise<void>((r) => backend.server.listen(0, '127.0.0.1', r));
    const backendPort = (backend.server.address() as { port: number }).port;
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port) + serviceRouteYaml('ws', 'ws') + serviceYaml('ws', [backendPort]),
    });
  });
  afterAll(async () => {
    await gw?.close();
    backend.server.close();
  });

  const upgrade = 'GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
  const hidden = 'GET /admin/secret HTTP/1.1\r\nHost: internal.example\r\n\r\n';

  it('relays a refused upgrade and closes, never sending the bytes after the request head', async () => {
    mode = 'refuse';
    backend.seen.length = 0;
    const { received, closed } = await rawExchange(gw.port, [upgrade + hidden], { waitMs: 3000 });
    expect(statuses(received)).toEqual([200]);
    expect(closed).toBe(true);
    expect(backend.seen).toEqual(['GET /chat HTTP/1.1']);
  });

  it('refuses a 101 that switches to a protocol the client did not ask for', async () => {
    mode = { protocol: 'h2c' };
    backend.seen.length = 0;
    const { received, closed } = await rawExchange(gw.port, [upgrade + hidden], { waitMs: 3000 });
    expect(statuses(received)).toEqual([502]);
    expect(closed).toBe(true);
    expect(backend.seen).toEqual(['GET /chat HTTP/1.1']);
  });

  it('tunnels after a matching 101, with the bytes that came with the request head', async () => {
    mode = { protocol: 'websocket' };
    backend.seen.length = 0;
    const { received } = await rawExchange(gw.port, [upgrade], { waitMs: 500 });
    expect(statuses(received)).toEqual([101]);
    expect(received.toLowerCase()).toContain('upgrade: websocket');
  });
});
