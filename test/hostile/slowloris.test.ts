import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../cluster/sluice-process.ts';
import { startBackend, type TestBackend } from '../support/backends.ts';
import {
  clientTrafficPolicyYaml,
  gatewayWithListeners,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { send } from '../support/http.ts';
import { freePort } from '../support/ports.ts';

const SLOW_CONNECTIONS = 500;

/**
 * A slowloris client: connects, then drips a request head one byte at a time and never finishes it.
 * Records how the gateway ended the connection (what it answered, if anything).
 */
interface Slow {
  socket: Socket;
  answer: string;
  closed: boolean;
}

function slowClient(port: number): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const head = 'GET / HTTP/1.1\r\nhost: app\r\nx-slow: ';
    const slow: Slow = { socket: connect(port, '127.0.0.1'), answer: '', closed: false };
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    slow.socket.on('connect', () => {
      const drip = () => {
        if (slow.socket.destroyed) return;
        slow.socket.write(sent < head.length ? head[sent]! : 'a');
        sent++;
        timer = setTimeout(drip, 200);
      };
      drip();
      resolve(slow);
    });
    slow.socket.on('data', (d) => {
      slow.answer += d.toString();
    });
    slow.socket.on('close', () => {
      slow.closed = true;
      clearTimeout(timer);
    });
    slow.socket.on('error', (err) => (sent === 0 ? reject(err) : undefined));
  });
}

/**
 * Issue 18's slowloris figure: 500 connections dripping request heads do not stop other clients, and
 * a ClientTrafficPolicy `requestReceivedTimeout` ends them with 408.
 */
describe('slowloris: 500 slow connections', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  const ports = { guarded: 0, plain: 0 };
  let slow: Slow[] = [];

  beforeAll(async () => {
    backend = await startBackend('app');
    ports.guarded = await freePort();
    ports.plain = await freePort();
    gw = await startGateway(ports.guarded, {
      'gateway.yaml': gatewayWithListeners(
        `    - {name: guarded, port: ${ports.guarded}, protocol: HTTP}
    - {name: plain, port: ${ports.plain}, protocol: HTTP}
`,
      ),
      'objects.yaml': `${serviceYaml('app', [backend.port])}${prefixRouteYaml('app', '/', 'app')}${clientTrafficPolicyYaml(
        'slowloris',
        'guarded',
        '  timeout: {http: {requestReceivedTimeout: 3s}}\n',
      )}`,
    });
  });
  afterAll(async () => {
    for (const s of slow) s.socket.destroy();
    await gw?.close();
    await backend?.close();
  });

  it('other clients are served while they drip, and the request-received timeout ends them with 408', async () => {
    const started = Date.now();
    slow = await Promise.all(
      Array.from({ length: SLOW_CONNECTIONS }, (_, i) => slowClient(i % 2 ? ports.guarded : ports.plain)),
    );
    // While 500 heads drip in, 200 ordinary requests on both ports are all answered.
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        while (statuses.length < 200)
          statuses.push((await send(`http://127.0.0.1:${i % 2 ? ports.guarded : ports.plain}/`)).status);
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const guarded = slow.filter((_, i) => i % 2 === 1);
    await waitFor(
      () => guarded.every((s) => s.closed),
      'every slow connection on the guarded port to close',
      20_000,
    );
    const ended = (Date.now() - started) / 1000;
    const timedOut = guarded.filter((s) => s.answer.startsWith('HTTP/1.1 408')).length;
    console.log(
      `slowloris: ${SLOW_CONNECTIONS} dripping connections; 200 of 200 other requests answered 200; ` +
        `${timedOut} of ${guarded.length} on the guarded port ended with 408 within ${ended.toFixed(1)} s`,
    );
    expect(timedOut).toBe(guarded.length);
    // Without a policy Node's defaults hold them longer (a head must arrive within 60 s), but they
    // still cost nobody else an answer.
    expect(slow.filter((_, i) => i % 2 === 0).every((s) => !s.closed)).toBe(true);
    expect((await send(`http://127.0.0.1:${ports.plain}/`)).status).toBe(200);
  }, 60_000);
});
