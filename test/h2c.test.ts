import { createServer as createH2cServer, type Http2Server, connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

/** Raw bytes to the listener; resolves with what came back before the connection closed (or 500 ms). */
function rawExchange(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = netConnect(port, '127.0.0.1', () => s.write(bytes));
    s.setTimeout(500, () => s.destroy());
    s.on('data', (d) => chunks.push(d));
    s.on('close', () => resolve(Buffer.concat(chunks)));
    s.on('error', () => {});
  });
}

/** HTTP/2 with prior knowledge (h2c) and HTTP/1.1 on one cleartext listener. */
describe('h2c beside HTTP/1.1 on an HTTP listener', () => {
  let backend: TestBackend;
  let h2Backend: Http2Server;
  let gw: TestGateway;
  let port: number;
  beforeAll(async () => {
    backend = await startBackend('web');
    // A backend that speaks only HTTP/2 in cleartext, behind a Service port with appProtocol h2c.
    h2Backend = createH2cServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ server: 'h2-only', httpVersion: req.httpVersion, path: req.url }));
    });
    const h2Port = await new Promise<number>((r) =>
      h2Backend.listen(0, '127.0.0.1', () => r((h2Backend.address() as { port: number }).port)),
    );
    port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': `${gatewayYaml(port)}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs: [{name: web, port: 80}]
    - matches: [{path: {type: PathPrefix, value: /h2-backend}}]
      backendRefs: [{name: h2-only, port: 80}]
${serviceYaml('web', [backend.port])}${serviceYaml('h2-only', [h2Port], 'default', 'kubernetes.io/h2c')}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
    h2Backend?.close();
  });

  it('speaks HTTP/2 to a Service port with appProtocol kubernetes.io/h2c, whatever the client speaks', async () => {
    const viaH1 = await send(`http://127.0.0.1:${port}/h2-backend/x`);
    expect(viaH1.status).toBe(200);
    expect(viaH1.json<{ server: string; httpVersion: string; path: string }>()).toEqual({
      server: 'h2-only',
      httpVersion: '2.0',
      path: '/h2-backend/x',
    });
    const viaH2 = await h2Get('/h2-backend/y');
    expect(JSON.parse(viaH2.body)).toMatchObject({ server: 'h2-only', httpVersion: '2.0' });
  });

  const h2Get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const session = http2Connect(`http://127.0.0.1:${port}`);
      session.on('error', reject);
      const req = session.request({ ':path': path, ':authority': 'h2c.example.com' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        session.close();
        resolve({ status, body });
      });
      req.end();
    });

  it('serves HTTP/2 clients with prior knowledge and HTTP/1.1 clients on the same port', async () => {
    const h2 = await h2Get('/over-h2c');
    expect(h2.status).toBe(200);
    expect(JSON.parse(h2.body)).toMatchObject({
      server: 'web',
      path: '/over-h2c',
      headers: { host: 'h2c.example.com' },
    });
    const h1 = await send(`http://127.0.0.1:${port}/over-h1`);
    expect(h1.status).toBe(200);
    expect(h1.json().path).toBe('/over-h1');
  });

  it('answers a broken HTTP/2 preface or bad frames with a clear failure and keeps serving others', async () => {
    // Almost the preface: not HTTP/2, so it is parsed as HTTP/1.1 and refused as malformed.
    const almost = await rawExchange(port, Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'));
    expect(almost.toString('latin1')).toMatch(/^HTTP\/1\.1 400/);
    // The real preface followed by a frame that is not SETTINGS: the HTTP/2 side sends GOAWAY (type 7).
    const badFrame = Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
      Buffer.from([0, 0, 4, 0xff, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
    ]);
    const reply = await rawExchange(port, badFrame);
    const frameTypes: number[] = [];
    for (let at = 0; at + 9 <= reply.length; at += 9 + reply.readUIntBE(at, 3))
      frameTypes.push(reply[at + 3]!);
    expect(frameTypes).toContain(7);
    expect((await h2Get('/still-fine')).status).toBe(200);
    expect((await send(`http://127.0.0.1:${port}/still-fine`)).status).toBe(200);
  });
});
