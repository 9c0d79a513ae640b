import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  gatewayYaml,
  backendTrafficPolicyYaml as policy,
  prefixRouteYaml as route,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

describe('BackendTrafficPolicy faultInjection', () => {
  let backend: TestBackend;
  let gw: TestGateway;

  beforeAll(async () => {
    backend = await startBackend('app');
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('app', [backend.port])}${route('abort', '/abort', 'app')}${route('half', '/half', 'app')}${route('slow', '/slow', 'app')}${policy(
        'abort',
        'abort',
        '  faultInjection: {abort: {httpStatus: 418}}\n',
      )}${policy('half', 'half', '  faultInjection: {abort: {httpStatus: 503, percentage: 50}}\n')}${policy(
        'slow',
        'slow',
        '  faultInjection: {delay: {fixedDelay: 300ms}}\n',
      )}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('aborts with the configured status in the error catalog shape, never reaching the backend', async () => {
    const seen = backend.seen.length;
    const res = await send(`${gw.url}/abort`);
    expect(res.status).toBe(418);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('fault_injected');
    expect(backend.seen.length).toBe(seen);
  });

  it('aborts about the configured share of requests (50% of 400)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 400; i++) statuses.push((await send(`${gw.url}/half`)).status);
    const aborted = statuses.filter((s) => s === 503).length;
    expect(statuses.filter((s) => s !== 503 && s !== 200)).toEqual([]);
    // Binomial(400, 0.5): 140–260 is six standard deviations either side.
    expect(aborted).toBeGreaterThan(140);
    expect(aborted).toBeLessThan(260);
    const counted = sumOf(await scrapeMetrics(gw.adminPort), 'sluice_fault_injections_total', {
      policy: 'default/half',
      fault: 'abort',
    });
    expect(counted).toBe(aborted);
  });

  it('delays every request by the fixed delay, then serves it', async () => {
    const started = performance.now();
    const res = await send(`${gw.url}/slow`);
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
  });
});

describe('BackendTrafficPolicy responseOverride', () => {
  let backend: TestBackend;
  let gw: TestGateway;

  beforeAll(async () => {
    backend = await startBackend('app');
    const port = await freePort();
    const deadPort = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('app', [backend.port])}${serviceYaml('dead', [deadPort])}${route('custom', '/custom', 'app')}${route('gone', '/gone', 'dead')}${policy(
        'custom',
        'custom',
        `  responseOverride:
    - match: {statusCodes: [{type: Range, range: {start: 500, end: 599}}]}
      response: {statusCode: 503, contentType: application/json, body: {type: Inline, inline: '{"message":"We are on it"}'}}
    - match: {statusCodes: [{value: 404}]}
      response: {body: {inline: not here}}
`,
      )}${policy(
        'gone',
        'gone',
        `  responseOverride:
    - match: {statusCodes: [{value: 502}]}
      response: {contentType: text/html, body: {inline: '<h1>Back soon</h1>'}}
`,
      )}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it("replaces a backend's answer whose status matches, with the configured status, type and body", async () => {
    const failed = await send(`${gw.url}/custom?status=500`);
    expect(failed.status).toBe(503);
    expect(failed.headers['content-type']).toBe('application/json');
    expect(failed.text).toBe('{"message":"We are on it"}');
    const missing = await send(`${gw.url}/custom?status=404`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('not here');
    // Other statuses pass as the backend sent them.
    const ok = await send(`${gw.url}/custom?status=201`);
    expect(ok.status).toBe(201);
    expect(ok.json().path).toBe('/custom');
  });

  it("replaces the gateway's own error for the route (502: the backend is unreachable)", async () => {
    const res = await send(`${gw.url}/gone`);
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toBe('text/html');
    expect(res.text).toBe('<h1>Back soon</h1>');
  });
});

describe('BackendTrafficPolicy connection timeouts', () => {
  let silent: ReturnType<typeof spawn>;
  let silentPort: number;
  let backend: Server;
  let closed = 0;
  let gw: TestGateway;

  beforeAll(async () => {
    // A backend whose accept queue is full: new connections are never completed (SYNs dropped).
    silent = spawn('python3', [
      '-c',
      'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)',
    ]);
    silentPort = await new Promise<number>((resolve) =>
      silent.stdout!.once('data', (d) => resolve(Number(String(d).trim()))),
    );
    const fillers = Array.from({ length: 4 }, () => connect(silentPort, '127.0.0.1').on('error', () => {}));
    // A backend that counts the connections the gateway closes.
    backend = createServer((_req, res) => res.end('ok'));
    backend.on('connection', (s) => s.on('close', () => closed++));
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('silent', [silentPort])}${serviceYaml('app', [(backend.address() as AddressInfo).port])}${route('silent', '/silent', 'silent')}${route('idle', '/idle', 'app')}${policy(
        'silent',
        'silent',
        '  timeout: {tcp: {connectTimeout: 300ms}}\n',
      )}${policy('idle', 'idle', '  timeout: {http: {connectionIdleTimeout: 200ms}}\n')}`,
    });
    void fillers;
  });
  afterAll(async () => {
    await gw?.close();
    silent?.kill();
    backend?.closeAllConnections();
    await new Promise<void>((r) => backend?.close(() => r()));
  });

  it('connectTimeout: a backend that never completes the handshake fails the attempt at once (not after undici’s 10 s)', async () => {
    const started = performance.now();
    const res = await send(`${gw.url}/silent`);
    const ms = performance.now() - started;
    expect(res.status).toBe(502);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('upstream_unreachable');
    expect(ms).toBeLessThan(5000);
  });

  it('connectionIdleTimeout: the pooled connection to the backend is closed once idle', async () => {
    expect((await send(`${gw.url}/idle`)).status).toBe(200);
    // undici checks idle connections about once a second, so the close comes within a few seconds (the
    // default would be 30 s).
    const deadline = Date.now() + 10_000;
    while (closed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(1);
  });
});
