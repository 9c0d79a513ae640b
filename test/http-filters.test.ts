import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

/** Filters, weights, timeouts, error statuses and upgrades through standalone mode and real sockets. */
describe('HTTPRoute filters and backends over real sockets', () => {
  let web: TestBackend;
  let blue: TestBackend;
  let green: TestBackend;
  let shadow: TestBackend;
  let gw: TestGateway;

  const route = (name: string, host: string, rules: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [${host}]
  rules:
${rules}`;

  beforeAll(async () => {
    [web, blue, green, shadow] = (await Promise.all(
      ['web', 'blue', 'green', 'shadow'].map(startBackend),
    )) as [TestBackend, TestBackend, TestBackend, TestBackend];
    const port = await freePort();
    const refused = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'services.yaml': [
        serviceYaml('web', [web.port]),
        serviceYaml('blue', [blue.port]),
        serviceYaml('green', [green.port]),
        serviceYaml('shadow', [shadow.port]),
        serviceYaml('empty', []),
        serviceYaml('refused', [refused]),
      ].join(''),
      'routes.yaml': [
        route(
          'headers',
          'headers.test',
          `    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{name: X-Env, value: prod}]
            add: [{name: X-Tag, value: b}]
            remove: [X-Debug]
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set: [{name: X-Served-By, value: sluice}]
            remove: [X-Echo-Server]
      backendRefs: [{name: web, port: 80}]
`,
        ),
        route(
          'redirects',
          'redirect.test',
          `    - matches: [{path: {value: /old}}]
      filters:
        - type: RequestRedirect
          requestRedirect: {scheme: https, hostname: new.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}, statusCode: 301}
    - matches: [{path: {value: /port}}]
      filters:
        - type: RequestRedirect
          requestRedirect: {port: 8443}
    - matches: [{path: {value: /full}}]
      filters:
        - type: RequestRedirect
          requestRedirect: {path: {type: ReplaceFullPath, replaceFullPath: /landing}, statusCode: 308}
`,
        ),
        route(
          'rewrites',
          'rewrite.test',
          `    - matches: [{path: {value: /api/v1}}]
      filters:
        - type: URLRewrite
          urlRewrite: {hostname: internal.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}}
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /strip}}]
      filters:
        - type: URLRewrite
          urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /}}
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /page}}]
      filters:
        - type: URLRewrite
          urlRewrite: {path: {type: ReplaceFullPath, replaceFullPath: /index.html}}
      backendRefs: [{name: web, port: 80}]
`,
        ),
        route(
          'mirrors',
          'mirror.test',
          `    - matches: [{path: {value: /ok}}]
      filters:
        - type: RequestMirror
          requestMirror: {backendRef: {name: shadow, port: 80}}
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /broken}}]
      filters:
        - type: RequestMirror
          requestMirror: {backendRef: {name: refused, port: 80}}
      backendRefs: [{name: web, port: 80}]
`,
        ),
        route(
          'backend-filters',
          'backend-filters.test',
          `    - filters:
        - type: RequestHeaderModifier
          requestHeaderModifier: {set: [{name: X-Route, value: both}]}
      backendRefs:
        - name: blue
          port: 80
          filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Backend, value: blue}], remove: [X-Drop]}}]
        - name: green
          port: 80
          filters: [{type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: X-Backend, value: green}]}}]
`,
        ),
        route(
          'split',
          'split.test',
          `    - backendRefs: [{name: blue, port: 80, weight: 80}, {name: green, port: 80, weight: 20}]
`,
        ),
        route(
          'failures',
          'fail.test',
          `    - matches: [{path: {value: /invalid}}]
      backendRefs: [{name: does-not-exist, port: 80}]
    - matches: [{path: {value: /empty}}]
      backendRefs: [{name: empty, port: 80}]
    - matches: [{path: {value: /refused}}]
      backendRefs: [{name: refused, port: 80}]
    - matches: [{path: {value: /slow}}]
      timeouts: {request: 200ms}
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /slow-backend}}]
      timeouts: {backendRequest: 150ms}
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /half}}]
      backendRefs: [{name: web, port: 80, weight: 1}, {name: does-not-exist, port: 80, weight: 1}]
`,
        ),
        route(
          'ws',
          'ws.test',
          `    - backendRefs: [{name: web, port: 80}]
`,
        ),
      ].join(''),
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([web, blue, green, shadow].map((b) => b.close()));
  });

  it('modifies request and response headers', async () => {
    const r = await send(`${gw.url}/`, {
      headers: { host: 'headers.test', 'x-tag': 'a', 'x-debug': '1', 'x-env': 'dev' },
    });
    const seen = r.json().headers;
    expect(seen['x-env']).toBe('prod');
    expect(seen['x-tag']).toBe('a,b');
    expect(seen['x-debug']).toBeUndefined();
    expect(seen['x-forwarded-for']).toBe('127.0.0.1');
    expect(r.headers['x-served-by']).toBe('sluice');
    expect(r.headers['x-echo-server']).toBeUndefined();
  });

  it("applies a backendRef's own header filter only to requests sent to that backend, after the rule's", async () => {
    const seenBy: Record<string, Record<string, string>> = {};
    for (let i = 0; i < 40 && Object.keys(seenBy).length < 2; i++) {
      const r = await send(`${gw.url}/`, { headers: { host: 'backend-filters.test', 'x-drop': '1' } });
      const body = r.json() as { server: string; headers: Record<string, string> };
      seenBy[body.server] = body.headers;
    }
    expect(seenBy.blue).toMatchObject({ 'x-backend': 'blue', 'x-route': 'both' });
    expect(seenBy.blue!['x-drop']).toBeUndefined();
    expect(seenBy.green).toMatchObject({ 'x-backend': 'green', 'x-route': 'both', 'x-drop': '1' });
  });

  it('redirects with scheme, hostname, path and port rules', async () => {
    const old = await send(`${gw.url}/old/page?x=1`, { headers: { host: 'redirect.test' } });
    expect(old.status).toBe(301);
    expect(old.headers.location).toBe('https://new.test/new/page?x=1');
    const port = await send(`${gw.url}/port`, { headers: { host: 'redirect.test:1234' } });
    expect(port.status).toBe(302);
    expect(port.headers.location).toBe('http://redirect.test:8443/port');
    const full = await send(`${gw.url}/full/x`, { headers: { host: 'redirect.test' } });
    expect(full.status).toBe(308);
    expect(full.headers.location).toBe(`http://redirect.test:${gw.port}/landing`);
    expect(web.seen.some((s) => s.url.startsWith('/old') || s.url.startsWith('/full'))).toBe(false);
  });

  it('rewrites the host and path prefix or full path', async () => {
    const a = (await send(`${gw.url}/api/v1/users?id=7`, { headers: { host: 'rewrite.test' } })).json();
    expect(a.path).toBe('/v2/users');
    expect(a.query).toBe('?id=7');
    expect(a.headers.host).toBe('internal.test');
    expect((await send(`${gw.url}/strip/a/b`, { headers: { host: 'rewrite.test' } })).json().path).toBe(
      '/a/b',
    );
    expect((await send(`${gw.url}/strip`, { headers: { host: 'rewrite.test' } })).json().path).toBe('/');
    expect((await send(`${gw.url}/page/any`, { headers: { host: 'rewrite.test' } })).json().path).toBe(
      '/index.html',
    );
  });

  it('mirrors requests with their body; a failing mirror does not affect the response', async () => {
    const r = await send(`${gw.url}/ok`, {
      method: 'POST',
      headers: { host: 'mirror.test' },
      body: 'copy me',
    });
    expect(r.status).toBe(200);
    expect(r.json().body).toBe('copy me');
    await expect.poll(() => shadow.seen.filter((s) => s.url === '/ok').length).toBe(1);
    const broken = await send(`${gw.url}/broken`, { headers: { host: 'mirror.test' } });
    expect(broken.status).toBe(200);
    expect(broken.json().server).toBe('web');
  });

  it('splits traffic by weight within ±5% over 10,000 requests', async () => {
    const agent = new Agent({ connections: 32 });
    const counts: Record<string, number> = { blue: 0, green: 0 };
    const total = 10_000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < total) {
          next++;
          const res = await request(`${gw.url}/`, { headers: { host: 'split.test' }, dispatcher: agent });
          const body = (await res.body.json()) as { server: string };
          counts[body.server] = (counts[body.server] ?? 0) + 1;
        }
      }),
    );
    await agent.close();
    expect(counts.blue! + counts.green!).toBe(total);
    expect(Math.abs(counts.blue! / total - 0.8)).toBeLessThan(0.05);
    expect(Math.abs(counts.green! / total - 0.2)).toBeLessThan(0.05);
  });

  it('answers 500 for invalid backends, 503 without endpoints, 502 when refused', async () => {
    const status = async (path: string) =>
      (await send(`${gw.url}${path}`, { headers: { host: 'fail.test' } })).status;
    expect(await status('/invalid')).toBe(500);
    expect(await status('/empty')).toBe(503);
    expect(await status('/refused')).toBe(502);
    const half = await Promise.all(Array.from({ length: 200 }, () => status('/half')));
    expect(half.filter((s) => s === 500).length).toBeGreaterThan(50);
    expect(half.filter((s) => s === 200).length).toBeGreaterThan(50);
  });

  it('enforces request and backendRequest timeouts with 504', async () => {
    const slow = await send(`${gw.url}/slow?delay=1000`, { headers: { host: 'fail.test' } });
    expect(slow.status).toBe(504);
    expect(JSON.parse(slow.text).error.code).toBe('upstream_timeout');
    expect((await send(`${gw.url}/slow-backend?delay=1000`, { headers: { host: 'fail.test' } })).status).toBe(
      504,
    );
    expect((await send(`${gw.url}/slow?delay=10`, { headers: { host: 'fail.test' } })).status).toBe(200);
  });

  it('passes WebSocket upgrades through and relays bytes both ways', async () => {
    const socket = connect(gw.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (d: Buffer) => received.push(d));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      'GET /chat HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await expect.poll(() => Buffer.concat(received).toString()).toContain('101 Switching Protocols');
    socket.write('ping-frame');
    await expect.poll(() => Buffer.concat(received).toString()).toContain('ping-frame');
    socket.destroy();
  });
});
