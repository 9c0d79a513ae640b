import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  gatewayYaml,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { openSocket } from './support/raw-socket.ts';

/** What one raw connection receives until it closes (or `waitMs` passes), after writing `request`. */
function exchange(
  socket: Socket,
  request: string,
  waitMs: number,
): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve({ text, closed: false }), waitMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/\r\n\r\n[\s\S]*\}$/.test(text)) {
        clearTimeout(timer);
        resolve({ text, closed: false });
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => {});
    if (request) socket.write(request);
  });
}

/**
 * ClientTrafficPolicy connection limit and HTTP timeouts on real sockets: the seed's scenario (a limit
 * of 5 and 10 clients holding connections open) and a slow client that never finishes its request.
 */
describe('ClientTrafficPolicy connection limit and timeouts', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  const objects = (
    connection: string,
  ) => `${serviceYaml('app', [backend.port])}${prefixRouteYaml('app', '/', 'app')}---
apiVersion: sluice.dev/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: limits, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  connection: ${connection}
  timeout: {http: {requestReceivedTimeout: 1s, idleTimeout: 30s}}
`;

  beforeAll(async () => {
    backend = await startBackend('app');
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': objects('{connectionLimit: {value: 5}}'),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  const request = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

  it('serves exactly the configured number of connections at once, refuses the rest, and keeps serving', async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => openSocket(gw.port)));
    // One request per connection, all at once: five answered, five closed unanswered.
    const results = await Promise.all(sockets.map((s) => exchange(s, request, 3000)));
    const served = results.filter((r) => r.text.startsWith('HTTP/1.1 200'));
    const refused = results.filter((r) => r.closed && r.text === '');
    expect(served).toHaveLength(5);
    expect(refused).toHaveLength(5);
    // Held connections keep working; once they close, new clients get in.
    for (const s of sockets) s.destroy();
    await expect
      .poll(async () => (await send(`${gw.url}/after`, { from: '127.0.0.1' })).status, { timeout: 5000 })
      .toBe(200);
  });

  it('answers a request that does not arrive in time with 408, without holding up other clients', async () => {
    const slow = await openSocket(gw.port);
    const pending = exchange(slow, 'GET / HTTP/1.1\r\nHost: a\r\n', 6000);
    expect((await send(`${gw.url}/meanwhile`, { from: '127.0.0.1' })).status).toBe(200);
    const answer = await pending;
    expect(answer.text).toMatch(/^HTTP\/1\.1 408/);
    slow.destroy();
  });

  it('with closeDelay, holds a refused connection unread for the delay before closing it', async () => {
    await gw.write('objects.yaml', objects('{connectionLimit: {value: 2, closeDelay: 1500ms}}'));
    // Two connections take the two places (once keep-alive connections of earlier tests are gone).
    let holders: Socket[] = [];
    await expect
      .poll(
        async () => {
          for (const s of holders) s.destroy();
          holders = await Promise.all([openSocket(gw.port), openSocket(gw.port)]);
          const served = await Promise.all(holders.map((s) => exchange(s, request, 3000)));
          return served.every((r) => r.text.startsWith('HTTP/1.1 200'));
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    const refused = await openSocket(gw.port);
    const started = performance.now();
    const outcome = await exchange(refused, request, 5000);
    // Never answered, closed by the gateway only once the delay has passed.
    expect(outcome).toEqual({ text: '', closed: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    for (const s of holders) s.destroy();
    await expect
      .poll(async () => (await send(`${gw.url}/after`, { from: '127.0.0.1' })).status, { timeout: 5000 })
      .toBe(200);
  });
});
