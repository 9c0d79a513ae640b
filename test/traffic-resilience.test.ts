import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientTrafficPolicyYaml,
  gatewayYaml,
  backendTrafficPolicyYaml as policy,
  prefixRouteYaml as route,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { openSocket } from './support/raw-socket.ts';

/** A backend whose every answer the test decides, recording what it received. */
interface ScriptedBackend {
  port: number;
  /** Bodies received, in order (one per attempt that reached it). */
  received: string[];
  /** What the next requests get, in order; then 200 `ok`. */
  script: ((req: IncomingMessage, res: ServerResponse) => void)[];
  close(): Promise<void>;
}

async function scriptedBackend(): Promise<ScriptedBackend> {
  const received: string[] = [];
  const script: ScriptedBackend['script'] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      received.push(body);
      const step = script.shift();
      if (step) return step(req, res);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A body sent in 8 KB chunks with no declared length (Transfer-Encoding: chunked). */
function chunked(text: string): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < text.length; i += 8192) yield Buffer.from(text.slice(i, i + 8192));
    })(),
  );
}

const answer =
  (status: number) =>
  (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
  };
const reset = (req: IncomingMessage): void => {
  req.socket.destroy();
};
/** Headers and part of a body, then the connection dies: the client has seen bytes. */
const halfThenReset = (req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('partial');
  setTimeout(() => req.socket.destroy(), 20);
};

describe('BackendTrafficPolicy retries and circuit breaker, HTTPRoute retry', () => {
  let flaky: ScriptedBackend;
  let slow: ScriptedBackend;
  let shadow: ScriptedBackend;
  let gw: TestGateway;
  let deadPort: number;

  beforeAll(async () => {
    flaky = await scriptedBackend();
    slow = await scriptedBackend();
    shadow = await scriptedBackend();
    deadPort = await freePort();
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${clientTrafficPolicyYaml('buffers', undefined, '  connection: {bufferLimit: 64Ki}\n')}${serviceYaml('shadow', [shadow.port])}${route(
        'mirrored',
        '/mirrored',
        'flaky',
        undefined,
        '      filters: [{type: RequestMirror, requestMirror: {backendRef: {name: shadow, port: 80}}}]\n',
      )}${serviceYaml('flaky', [flaky.port])}${serviceYaml('slow', [slow.port])}${serviceYaml('half-dead', [deadPort, flaky.port])}${route('retried', '/retried', 'flaky')}${route('dead', '/dead', 'half-dead')}${route('breaker', '/breaker', 'slow')}${route(
        'gapi',
        '/gapi',
        'flaky',
        undefined,
        '      retry: {codes: [500, 502], attempts: 2, backoff: 50ms}\n',
      )}${policy(
        'retry',
        'retried',
        `  retry:
    numRetries: 2
    retryOn: {triggers: [connect-failure, reset, retriable-status-codes], httpStatusCodes: [503]}
    perRetry: {backOff: {baseInterval: 10ms}}
`,
      )}${policy(
        'dead',
        'dead',
        `  retry:
    numRetries: 1
    retryOn: {triggers: [connect-failure]}
`,
      )}${policy(
        'breaker',
        'breaker',
        `  circuitBreaker: {maxParallelRequests: 2}
`,
      )}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await flaky?.close();
    await slow?.close();
    await shadow?.close();
  });

  it('recovers a flaky backend with the configured attempts, replaying the same body', async () => {
    flaky.received.length = 0;
    flaky.script.push(answer(503), reset);
    const res = await send(`${gw.url}/retried`, { method: 'POST', body: 'payload-1' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('ok');
    expect(flaky.received).toEqual(['payload-1', 'payload-1', 'payload-1']);
  });

  it('retries a chunked body within the buffer limit, and sends a larger one once, whole', async () => {
    flaky.received.length = 0;
    flaky.script.push(answer(503));
    const small = 'a'.repeat(10_000);
    const retried = await request(`${gw.url}/retried`, { method: 'POST', body: chunked(small) });
    expect(retried.statusCode).toBe(200);
    await retried.body.text();
    expect(flaky.received).toEqual([small, small]);
    // Past ClientTrafficPolicy bufferLimit (64Ki): the gateway holds no more, so no replay.
    flaky.received.length = 0;
    flaky.script.push(answer(503));
    const large = 'b'.repeat(200_000);
    const once = await request(`${gw.url}/retried`, { method: 'POST', body: chunked(large) });
    expect(once.statusCode).toBe(503);
    await once.body.text();
    expect(flaky.received).toEqual([large]);
  });

  it('copies a body within the buffer limit to a RequestMirror, and forwards a larger one without a copy', async () => {
    shadow.received.length = 0;
    flaky.received.length = 0;
    expect((await send(`${gw.url}/mirrored`, { method: 'POST', body: 'small' })).status).toBe(200);
    await expect.poll(() => shadow.received).toEqual(['small']);
    const large = 'c'.repeat(300_000);
    const res = await request(`${gw.url}/mirrored`, { method: 'POST', body: chunked(large) });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(flaky.received).toEqual(['small', large]);
    // A later small request is mirrored: had the large one been copied, it would arrive first.
    expect((await send(`${gw.url}/mirrored`, { method: 'POST', body: 'after' })).status).toBe(200);
    await expect.poll(() => shadow.received).toEqual(['small', 'after']);
  });

  it('survives clients that reset while a body is being held for replay or mirroring, and keeps serving', async () => {
    flaky.received.length = 0;
    for (const path of ['/retried', '/mirrored']) {
      const socket = await openSocket(gw.port);
      socket.on('error', () => {});
      // A chunked body that stops halfway (one 8 KB chunk of a longer upload), then a reset.
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2000\r\n${'x'.repeat(8192)}\r\n`,
      );
      // The gateway has read what was written once it has answered a request sent after it.
      await new Promise<void>((r) => socket.write('', () => r()));
      expect((await send(`${gw.url}/no-route-here`)).status).toBe(404);
      socket.resetAndDestroy();
    }
    // Nothing half-received reached a backend, and the next requests are served.
    expect((await send(`${gw.url}/retried`, { method: 'POST', body: 'after' })).status).toBe(200);
    expect((await send(`${gw.url}/mirrored`, { method: 'POST', body: 'after' })).status).toBe(200);
    expect(flaky.received).toEqual(['after', 'after']);
  });

  it('answers the last attempt as it is once retries are used up', async () => {
    flaky.received.length = 0;
    flaky.script.push(answer(503), answer(503), answer(503));
    const res = await send(`${gw.url}/retried`);
    expect(res.status).toBe(503);
    expect(res.text).toBe('status 503');
    expect(flaky.received).toHaveLength(3);
  });

  it('does not retry statuses it was not told to', async () => {
    flaky.received.length = 0;
    flaky.script.push(answer(500));
    expect((await send(`${gw.url}/retried`)).status).toBe(500);
    expect(flaky.received).toHaveLength(1);
  });

  it('never sends a request again once response bytes reached the client', async () => {
    flaky.received.length = 0;
    flaky.script.push(halfThenReset);
    const outcome = await request(`${gw.url}/retried`)
      .then(async (r) => ({ status: r.statusCode, text: await r.body.text().catch(() => 'cut') }))
      .catch(() => ({ status: 0, text: 'cut' }));
    expect(outcome.text).not.toBe('ok');
    expect(flaky.received).toHaveLength(1);
  });

  it('moves to another endpoint when one refuses connections', async () => {
    // Round-robin alternates the dead and the live endpoint; every request still succeeds.
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await send(`${gw.url}/dead`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it('applies the HTTPRoute retry field: listed codes, attempts, and the backoff as a minimum', async () => {
    flaky.received.length = 0;
    flaky.script.push(answer(502), answer(500));
    const started = performance.now();
    const res = await send(`${gw.url}/gapi`);
    expect(res.status).toBe(200);
    expect(flaky.received).toHaveLength(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100); // two waits of at least 50 ms
    flaky.received.length = 0;
    flaky.script.push(answer(503));
    expect((await send(`${gw.url}/gapi`)).status).toBe(503);
    expect(flaky.received).toHaveLength(1);
  });

  it('trips the circuit breaker beyond maxParallelRequests and recovers once requests finish', async () => {
    const release: (() => void)[] = [];
    const hold = (_req: IncomingMessage, res: ServerResponse) => {
      release.push(() => res.writeHead(200).end('slow ok'));
    };
    slow.script.push(hold, hold, hold, hold, hold);
    const agent = new Agent({ connections: 8 });
    const call = () =>
      request(`${gw.url}/breaker`, { dispatcher: agent }).then(async (r) => ({
        status: r.statusCode,
        text: await r.body.text(),
      }));
    try {
      // Two reach the backend and are held there; three more are refused at once.
      const held = [call(), call()];
      while (release.length < 2) await new Promise((r) => setTimeout(r, 5));
      const refused = await Promise.all([call(), call(), call()]);
      expect(refused.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(JSON.parse(refused[0]!.text).error.code).toBe('upstream_overloaded');
      const metrics = (await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
      expect(metrics).toMatch(/sluice_circuit_breaker_open_total\{policy="default\/breaker"\} 3/);
      for (const r of release.splice(0)) r();
      expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
      // Closed again: the next request is served.
      slow.script.length = 0;
      expect((await send(`${gw.url}/breaker`)).status).toBe(200);
    } finally {
      for (const r of release) r();
      await agent.close();
    }
  });
});
