import type { IncomingHttpHeaders } from 'node:http';
import { createServer as createH2cServer, type Http2Server } from 'node:http2';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { openSocket } from './support/raw-socket.ts';
import { caConfigMapYaml, TestCa } from './support/tls.ts';

/** The same filters on every rule: what each forwarding path must apply identically. */
const FILTERS = `      filters:
        - type: URLRewrite
          urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /inner}}
        - type: RequestHeaderModifier
          requestHeaderModifier: {set: [{name: x-route, value: core}], remove: [x-secret]}
        - type: ResponseHeaderModifier
          responseHeaderModifier: {set: [{name: x-served-by, value: sluice}]}
`;

const routes = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: core, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches: [{path: {value: /ws}}]
${FILTERS}      backendRefs: [{name: tls-ws, port: 80}]
    - matches: [{path: {value: /ws-slow}}]
      timeouts: {request: 300ms}
      backendRefs: [{name: tls-ws, port: 80}]
    - matches: [{path: {value: /wrong-ca}}]
      backendRefs: [{name: tls-ws-stranger, port: 80}]
    - matches: [{path: {value: /h2}}]
      timeouts: {request: 300ms}
${FILTERS}      backendRefs: [{name: h2-only, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: ws-tls, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: tls-ws}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: trusted-ca}]
    hostname: ws.internal
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: ws-tls-stranger, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: tls-ws-stranger}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: stranger-ca}]
    hostname: ws.internal
`;

interface Seen {
  path: string | undefined;
  headers: IncomingHttpHeaders;
  sni?: string | false;
}

/** Reads from `socket` until `text` has arrived. */
function readUntil(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes(text)) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before '${text}'; got: ${got}`)));
  });
}

describe('one forwarding core: upgrades and HTTP/2 get the same filters, TLS and timeouts', () => {
  let gw: TestGateway;
  let tlsBackend: HttpsServer;
  let h2Backend: Http2Server;
  const upgrades: Seen[] = [];
  const h2Requests: Seen[] = [];

  beforeAll(async () => {
    const trusted = new TestCa();
    const stranger = new TestCa(undefined, '/CN=unknown-ca');
    const cert = trusted.server('ws', ['ws.internal']);
    // A TLS-only WebSocket-style backend: accepts the upgrade and echoes whatever the tunnel carries.
    tlsBackend = createTlsServer({ cert: cert.cert, key: cert.key }, (req, res) =>
      res.end(`plain request, SNI ${(req.socket as TLSSocket).servername}`),
    );
    tlsBackend.on('upgrade', (req, socket: Socket) => {
      // Never answers: the route's timeout must end the wait.
      if (req.url === '/ws-slow') return;
      upgrades.push({
        path: req.url,
        headers: req.headers,
        sni: (socket as TLSSocket).servername ?? undefined,
      });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      socket.on('data', (d) => socket.write(d));
    });
    await new Promise<void>((r) => tlsBackend.listen(0, '127.0.0.1', r));
    const tlsPort = (tlsBackend.address() as { port: number }).port;

    // An HTTP/2-only backend (h2c) that never answers /inner/slow.
    h2Backend = createH2cServer((req, res) => {
      h2Requests.push({ path: req.url, headers: req.headers as IncomingHttpHeaders });
      if (req.url === '/inner/slow') return;
      res.end('h2 ok');
    });
    await new Promise<void>((r) => h2Backend.listen(0, '127.0.0.1', r));
    const h2Port = (h2Backend.address() as { port: number }).port;

    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port) + routes,
      'services.yaml':
        serviceYaml('tls-ws', [tlsPort]) +
        serviceYaml('tls-ws-stranger', [tlsPort]) +
        serviceYaml('h2-only', [h2Port], 'default', 'kubernetes.io/h2c'),
      'cas.yaml': caConfigMapYaml('trusted-ca', trusted.cert) + caConfigMapYaml('stranger-ca', stranger.cert),
    });
  });
  afterAll(async () => {
    await gw?.close();
    tlsBackend?.closeAllConnections();
    tlsBackend?.close();
    h2Backend?.close();
  });

  it('upgrades to a BackendTLSPolicy backend over verified TLS, rewritten and filtered like any request', async () => {
    const socket = await openSocket(gw.port);
    socket.write(
      'GET /ws/chat?room=1 HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'X-Secret: drop-me\r\n\r\n',
    );
    const head = await readUntil(socket, '\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head.toLowerCase()).toContain('x-served-by: sluice');
    socket.write('ping');
    expect(await readUntil(socket, 'ping')).toContain('ping');
    socket.destroy();

    const seen = upgrades.at(-1)!;
    expect(seen.sni).toBe('ws.internal');
    expect(seen.path).toBe('/inner/chat?room=1');
    expect(seen.headers['x-route']).toBe('core');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
  });

  it('answers an upgrade the backend never accepts with 504 once the route timeout passes', async () => {
    const socket = await openSocket(gw.port);
    socket.write(
      'GET /ws-slow HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    const head = await readUntil(socket, '\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 504 /);
    socket.destroy();
  });

  it("verifies plain requests against the policy's hostname, not the client's Host header", async () => {
    const res = await send(`${gw.url}/ws/plain`, { headers: { host: 'app.example' } });
    expect(res.status).toBe(200);
    expect(res.text).toBe('plain request, SNI ws.internal');
  });

  it('refuses an upgrade whose backend certificate the policy does not trust (502), never sending it', async () => {
    const before = upgrades.length;
    const socket = await openSocket(gw.port);
    socket.write(
      'GET /wrong-ca HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    const head = await readUntil(socket, '\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 502 /);
    socket.destroy();
    expect(upgrades.length).toBe(before);
  });

  it('applies URLRewrite and header filters on the HTTP/2 (h2c) path', async () => {
    const res = await send(`${gw.url}/h2/hello?x=1`, { headers: { 'x-secret': 'drop-me' } });
    expect(res.status).toBe(200);
    expect(res.text).toBe('h2 ok');
    expect(res.headers['x-served-by']).toBe('sluice');
    const seen = h2Requests.at(-1)!;
    expect(seen.path).toBe('/inner/hello?x=1');
    expect(seen.headers['x-route']).toBe('core');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('enforces the route timeout on the HTTP/2 path with 504', async () => {
    const res = await send(`${gw.url}/h2/slow`);
    expect(res.status).toBe(504);
    expect(JSON.parse(res.text).error.code).toBe('upstream_timeout');
  });
});
