import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

const routeWithVersion = (version: number) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - filters:
        - type: ResponseHeaderModifier
          responseHeaderModifier: {set: [{name: x-config-version, value: "${version}"}]}
      backendRefs: [{name: web, port: 80}]
`;

async function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('connect', () => socket.write(bytes));
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

describe('standalone mode: reloads, bad input and the admin port', () => {
  let web: TestBackend;
  let gw: TestGateway;

  beforeAll(async () => {
    web = await startBackend('web');
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'services.yaml': serviceYaml('web', [web.port]),
      'route.yaml': routeWithVersion(0),
    });
  });
  afterAll(async () => {
    await gw.close();
    await web.close();
  });

  it('swaps config 20 times under load without failing a request', async () => {
    const agent = new Agent({ connections: 8 });
    let stop = false;
    const statuses = new Map<number, number>();
    const versions = new Set<string>();
    const deadline = Date.now() + 20_000;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop && Date.now() < deadline) {
        const res = await request(`${gw.url}/`, { dispatcher: agent });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        versions.add(String(res.headers['x-config-version']));
      }
    });
    for (let v = 1; v <= 20; v++) {
      await gw.write('route.yaml', routeWithVersion(v));
      // The next swap only once clients were served by this one.
      await vi.waitFor(() => expect(versions.has(String(v))).toBe(true), { timeout: 5000, interval: 5 });
    }
    stop = true;
    await Promise.all(loops);
    await agent.close();
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(versions.size).toBeGreaterThan(10);
    expect((await send(`${gw.url}/`)).headers['x-config-version']).toBe('20');
  });

  it('picks up file edits through the directory watch', async () => {
    await writeFile(join(gw.dir, 'route.yaml'), routeWithVersion(99));
    await expect
      .poll(async () => (await send(`${gw.url}/`)).headers['x-config-version'], { timeout: 5000 })
      .toBe('99');
  });

  it.each([
    ['invalid YAML', 'bad.yaml', 'kind: [unclosed\n', /^bad\.yaml: invalid YAML/],
    [
      'an unknown kind of the Gateway API group',
      'bad.yaml',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: Widget\nmetadata: {name: w}\n',
      /^bad\.yaml: Widget w: \/kind: unknown kind/,
    ],
    [
      'an unknown field',
      'bad.yaml',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: broken}\nspec:\n  rules:\n    - backendRef: [{name: web, port: 80}]\n',
      /^bad\.yaml: HTTPRoute default\/broken: \/spec\/rules\/0\/backendRef: unknown field/,
    ],
    [
      'a schema violation',
      'bad.yaml',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: broken}\nspec:\n  rules:\n    - matches: [{path: {type: Fuzzy, value: /}}]\n',
      /^bad\.yaml: HTTPRoute default\/broken: \/spec\/rules\/0\/matches\/0\/path\/type: /,
    ],
    [
      'a duplicate object',
      'bad.yaml',
      routeWithVersion(5),
      /^route\.yaml: HTTPRoute default\/web: duplicate object, already defined in bad\.yaml$/,
    ],
  ])('rejects %s naming file, object and field, and keeps serving', async (_what, file, text, expected) => {
    const before = (await send(`${gw.url}/`)).headers['x-config-version'];
    await gw.write(file, text);
    const ready = await send(`http://127.0.0.1:${gw.adminPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.text).sourceError).toMatch(expected);
    const after = await send(`${gw.url}/`);
    expect(after.status).toBe(200);
    expect(after.headers['x-config-version']).toBe(before);
    await gw.write(file, '');
    expect(JSON.parse((await send(`http://127.0.0.1:${gw.adminPort}/readyz`)).text).sourceError).toBeNull();
  });

  it('skips a kind it does not read (a Deployment kept beside the routes) and serves the rest', async () => {
    await gw.write('app.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: {}\n');
    await gw.write('route.yaml', routeWithVersion(7));
    expect(JSON.parse((await send(`http://127.0.0.1:${gw.adminPort}/readyz`)).text).sourceError).toBeNull();
    expect((await send(`${gw.url}/`)).headers['x-config-version']).toBe('7');
    await gw.write('app.yaml', '');
  });

  it('answers malformed HTTP with 400 and oversized headers with 431', async () => {
    const bad = await rawExchange(gw.port, 'GARBAGE\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400 /);
    expect(bad).toContain('"code":"bad_request"');
    const big = await rawExchange(
      gw.port,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toContain('"code":"request_header_fields_too_large"');
    // The listener still serves other clients.
    expect((await send(`${gw.url}/`)).status).toBe(200);
  });

  it('serves /healthz, /readyz and /metrics on the admin port', async () => {
    const admin = `http://127.0.0.1:${gw.adminPort}`;
    expect((await send(`${admin}/healthz`)).status).toBe(200);
    const ready = JSON.parse((await send(`${admin}/readyz`)).text);
    expect(ready.status).toBe('ready');
    expect(ready.configHash).toMatch(/^[0-9a-f]{16}$/);
    const metrics = (await send(`${admin}/metrics`)).text;
    expect(metrics).toMatch(
      /sluice_http_requests_total\{listener="default\/gw\/\d+",route="httproute\/default\/web\/rule\/0\/match\/0",code="200"\} \d+/,
    );
    expect(metrics).toMatch(/sluice_config_reloads_total\{result="success"\} \d+/);
    expect(metrics).toMatch(/sluice_config_reloads_total\{result="failure"\} [1-9]/);
    expect(metrics).toContain(`sluice_config_info{hash="${ready.configHash}",gateway="default/gw"} 1`);
  });
});

describe('readiness before any valid config', () => {
  it('is not ready until a Gateway is served', async () => {
    const port = await freePort();
    const gw = await startGateway(port, { 'empty.yaml': '' });
    try {
      const ready = await send(`http://127.0.0.1:${gw.adminPort}/readyz`);
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text).sourceError).toMatch(/no Gateway of a Sluice GatewayClass/);
      await gw.write('gateway.yaml', gatewayYaml(port));
      expect((await send(`http://127.0.0.1:${gw.adminPort}/readyz`)).status).toBe(200);
      expect((await send(`http://127.0.0.1:${port}/`)).status).toBe(404);
    } finally {
      await gw.close();
    }
  });
});
