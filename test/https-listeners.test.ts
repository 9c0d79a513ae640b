import { connect as http2Connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayWithListeners, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { type IssuedCertificate, TestCa, tlsSecretYaml } from './support/tls.ts';

/** The certificate a TLS handshake with `servername` (none: no SNI) gets, or the handshake error. */
function handshake(
  port: number,
  servername: string | undefined,
  ca: string,
  maxVersion?: 'TLSv1.1',
): Promise<{ cn?: string; serial?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      port,
      host: '127.0.0.1',
      ca,
      ...(servername ? { servername } : {}),
      ...(maxVersion ? { maxVersion, minVersion: 'TLSv1' } : {}),
      rejectUnauthorized: false,
    });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      resolve({ cn: cert.subject?.CN as string | undefined, serial: cert.serialNumber });
      socket.destroy();
    });
    socket.once('error', (err) => resolve({ error: err.message }));
  });
}

/** One HTTPS request, verifying the certificate against `ca` for `host`. */
function httpsGet(
  port: number,
  host: string,
  path: string,
  ca: string,
  servername = host.replace(/:\d+$/, ''),
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        servername,
        headers: { host },
        ca,
        agent: false,
        rejectUnauthorized: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const gatewayYaml = (
  httpPort: number,
  httpsPort: number,
  catchAll: boolean,
) => `${gatewayWithListeners(`    - {name: http, port: ${httpPort}, protocol: HTTP}
    - {name: shop, port: ${httpsPort}, protocol: HTTPS, hostname: shop.example.com, tls: {certificateRefs: [{name: shop-cert}]}}
    - {name: apps, port: ${httpsPort}, protocol: HTTPS, hostname: "*.apps.example.com", tls: {certificateRefs: [{name: apps-cert}]}}
${catchAll ? `    - {name: other, port: ${httpsPort}, protocol: HTTPS, tls: {certificateRefs: [{name: default-cert}]}}\n` : ''}`)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: shop}, {name: gw, sectionName: apps}${catchAll ? ', {name: gw, sectionName: other}' : ''}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: to-https, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: http}]
  rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https, statusCode: 301}}]}]
`;

describe('HTTPS listeners: TLS termination, SNI, rotation', () => {
  let ca: TestCa;
  let certs: Record<'shop' | 'apps' | 'fallback', IssuedCertificate>;
  let backend: TestBackend;
  let gw: TestGateway;
  let httpsPort: number;
  let httpPort: number;
  const files = (shop: IssuedCertificate) =>
    tlsSecretYaml('shop-cert', shop) +
    tlsSecretYaml('apps-cert', certs.apps) +
    tlsSecretYaml('default-cert', certs.fallback);

  beforeAll(async () => {
    ca = new TestCa();
    certs = {
      shop: ca.server('shop', ['shop.example.com']),
      apps: ca.server('apps', ['*.apps.example.com']),
      fallback: ca.server('fallback', ['fallback.example.com']),
    };
    backend = await startBackend('web');
    httpPort = await freePort();
    httpsPort = await freePort();
    gw = await startGateway(httpPort, {
      'gateway.yaml': gatewayYaml(httpPort, httpsPort, true),
      'backend.yaml': serviceYaml('web', [backend.port]),
      'certs.yaml': files(certs.shop),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('picks the certificate by SNI: exact, wildcard, and the catch-all for unknown names and no SNI', async () => {
    expect((await handshake(httpsPort, 'shop.example.com', ca.cert)).cn).toBe('shop.example.com');
    expect((await handshake(httpsPort, 'billing.apps.example.com', ca.cert)).cn).toBe('*.apps.example.com');
    expect((await handshake(httpsPort, 'unknown.example.org', ca.cert)).cn).toBe('fallback.example.com');
    expect((await handshake(httpsPort, undefined, ca.cert)).cn).toBe('fallback.example.com');
  });

  it('serves HTTPS requests that verify against the CA, telling the backend the scheme was https', async () => {
    const res = await httpsGet(httpsPort, 'shop.example.com', '/cart', ca.cert);
    expect(res.status).toBe(200);
    const echo = JSON.parse(res.body);
    expect(echo).toMatchObject({ server: 'web', path: '/cart' });
    expect(echo.headers['x-forwarded-proto']).toBe('https');
  });

  it('speaks HTTP/2 to clients that offer it (ALPN h2) on the same port as HTTP/1.1', async () => {
    const session = http2Connect(`https://shop.example.com:${httpsPort}`, {
      createConnection: () =>
        tlsConnect({
          port: httpsPort,
          host: '127.0.0.1',
          servername: 'shop.example.com',
          ca: ca.cert,
          ALPNProtocols: ['h2'],
        }),
    });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = session.request({ ':path': '/over-h2', 'x-test': 'yes' });
        let body = '';
        let status = 0;
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d) => (body += d));
        req.on('end', () => resolve({ status, body }));
        req.on('error', reject);
        req.end();
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(status).toBe(200);
      const echo = JSON.parse(body);
      expect(echo).toMatchObject({ server: 'web', path: '/over-h2' });
      expect(echo.headers).toMatchObject({ host: `shop.example.com:${httpsPort}`, 'x-test': 'yes' });
      expect(Object.keys(echo.headers).some((h: string) => h.startsWith(':'))).toBe(false);
      // Reusing the connection for a name another listener owns (HTTP/2 coalescing) gets 421.
      const misdirected = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': 'billing.apps.example.com' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      expect(misdirected).toBe(421);
    } finally {
      session.close();
    }
  });

  it('redirects plain HTTP to HTTPS with RequestRedirect, dropping the well-known port', async () => {
    const res = await send(`http://127.0.0.1:${httpPort}/cart?x=1`, {
      headers: { host: 'shop.example.com' },
    });
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://shop.example.com/cart?x=1');
  });

  it('answers 421 when the Host belongs to another listener than the SNI (misdirected, e.g. a reused HTTP/2 connection)', async () => {
    const get = (servername: string, host: string) => httpsGet(httpsPort, host, '/', ca.cert, servername);
    expect((await get('shop.example.com', 'billing.apps.example.com')).status).toBe(421);
    expect((await get('billing.apps.example.com', `shop.example.com:${httpsPort}`)).status).toBe(421);
    expect((await get('billing.apps.example.com', 'unknown.example.org')).status).toBe(421);
    // The same listener serves both names: the wildcard's, and the catch-all's.
    expect((await get('billing.apps.example.com', 'other.apps.example.com')).status).toBe(200);
    expect((await get('unknown.example.org', 'also-unknown.example.net')).status).toBe(200);
    expect((await get('shop.example.com', `SHOP.example.com:${httpsPort}`)).status).toBe(200);
  });

  it('refuses TLS 1.1 and lower', async () => {
    const r = await handshake(httpsPort, 'shop.example.com', ca.cert, 'TLSv1.1');
    expect(r.error).toBeDefined();
  });

  it('closes a plain-HTTP client on the TLS port and keeps serving everyone else', async () => {
    const reply = await new Promise<string>((resolve) => {
      const s = netConnect(httpsPort, '127.0.0.1', () =>
        s.write('GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n'),
      );
      let data = '';
      s.on('data', (d) => (data += d.toString('latin1')));
      s.on('close', () => resolve(data));
      s.on('error', () => resolve(data));
    });
    expect(reply).not.toContain('200 OK');
    expect((await httpsGet(httpsPort, 'shop.example.com', '/', ca.cert)).status).toBe(200);
  });

  it('rotates a certificate without a restart or a failed request under load', async () => {
    const before = await handshake(httpsPort, 'shop.example.com', ca.cert);
    let failures = 0;
    let done = 0;
    let stop = false;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          const r = await httpsGet(httpsPort, 'shop.example.com', '/', ca.cert);
          if (r.status !== 200) failures++;
        } catch {
          failures++;
        }
        done++;
      }
    });
    await vi.waitFor(() => expect(done).toBeGreaterThanOrEqual(20), { timeout: 10_000 });
    const renewed = ca.server('shop-renewed', ['shop.example.com']);
    await gw.write('certs.yaml', files(renewed));
    // New handshakes get the renewed certificate; the load goes on across the change.
    await vi.waitFor(
      async () =>
        expect((await handshake(httpsPort, 'shop.example.com', ca.cert)).serial).not.toBe(before.serial),
      { timeout: 10_000 },
    );
    const rotatedAt = done;
    await vi.waitFor(() => expect(done).toBeGreaterThanOrEqual(rotatedAt + 20), { timeout: 10_000 });
    stop = true;
    await Promise.all(load);
    const after = await handshake(httpsPort, 'shop.example.com', ca.cert);
    expect(after.serial).not.toBe(before.serial);
    expect(done).toBeGreaterThan(20);
    expect(failures).toBe(0);
  });

  it('without a catch-all listener, an unknown SNI or no SNI fails the handshake; known names still work', async () => {
    const port = await freePort();
    const https2 = await freePort();
    const strict = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port, https2, false),
      'backend.yaml': serviceYaml('web', [backend.port]),
      'certs.yaml': files(certs.shop),
    });
    try {
      expect((await handshake(https2, 'unknown.example.org', ca.cert)).error).toBeDefined();
      expect((await handshake(https2, undefined, ca.cert)).error).toBeDefined();
      expect((await httpsGet(https2, 'shop.example.com', '/', ca.cert)).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('an expired certificate makes its listener unprogrammed while the others keep serving', async () => {
    const expired = ca.issue('expired', '/CN=shop.example.com', 'subjectAltName=DNS:shop.example.com\n', 0);
    await gw.write('certs.yaml', files(expired));
    const ready = JSON.parse((await send(`http://127.0.0.1:${gw.adminPort}/readyz`)).text);
    expect(ready.status).toBe('ready');
    // shop.example.com now falls to the catch-all certificate; the wildcard is untouched.
    expect((await handshake(httpsPort, 'shop.example.com', ca.cert)).cn).toBe('fallback.example.com');
    expect((await httpsGet(httpsPort, 'x.apps.example.com', '/', ca.cert)).status).toBe(200);
  });
});
