import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, createGunzip, gunzipSync, gzipSync, zstdDecompressSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gatewayYaml,
  backendTrafficPolicyYaml as policy,
  prefixRouteYaml as route,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { freePort } from './support/ports.ts';

const JSON_BODY = JSON.stringify({
  items: Array.from({ length: 80 }, (_, i) => ({ id: i, name: `item ${i}` })),
});

/** Raw answer bytes and headers for a GET with the given Accept-Encoding (undici would decode them). */
function get(
  port: number,
  path: string,
  acceptEncoding?: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('BackendTrafficPolicy compression', () => {
  let backend: Server;
  let gw: TestGateway;
  let releaseStream: () => void = () => {};

  beforeAll(async () => {
    backend = createServer((req, res) => {
      if (req.url === '/c/json')
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON_BODY);
      if (req.url === '/c/tiny')
        return void res
          .writeHead(200, { 'content-type': 'application/json', 'content-length': '2' })
          .end('{}');
      if (req.url === '/c/png')
        return void res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(4096, 7));
      if (req.url === '/c/encoded')
        return void res
          .writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' })
          .end(gzipSync('already compressed by the backend'));
      if (req.url === '/c/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: first\n\n');
        releaseStream = () => res.end('data: second\n\n');
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('app', [(backend.address() as AddressInfo).port])}${route('c', '/c', 'app')}${route(
        'plain',
        '/',
        'app',
      )}${policy('zip', 'c', '  compression: [{type: Brotli}, {type: Gzip}, {type: Zstd}]\n')}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    backend?.closeAllConnections();
    await new Promise<void>((r) => backend?.close(() => r()));
  });

  it('compresses with the coding the client weighs highest, and the body decodes to the original', async () => {
    const gz = await get(gw.port, '/c/json', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toContain('accept-encoding');
    expect(gz.headers['content-length']).toBeUndefined();
    expect(gunzipSync(gz.body).toString()).toBe(JSON_BODY);
    expect(gz.body.length).toBeLessThan(JSON_BODY.length / 3);

    const br = await get(gw.port, '/c/json', 'gzip;q=0.5, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(JSON_BODY);

    // Equal weights: the policy's order decides (Brotli first).
    expect((await get(gw.port, '/c/json', 'gzip, br, zstd')).headers['content-encoding']).toBe('br');
    const zstd = await get(gw.port, '/c/json', 'zstd');
    expect(zstdDecompressSync(zstd.body).toString()).toBe(JSON_BODY);
  });

  it('leaves answers alone when the client accepts no offered coding, or they gain nothing', async () => {
    for (const accept of [undefined, 'identity', 'gzip;q=0, br;q=0, zstd;q=0', 'deflate']) {
      const res = await get(gw.port, '/c/json', accept);
      expect(res.headers['content-encoding'], String(accept)).toBeUndefined();
      expect(res.body.toString()).toBe(JSON_BODY);
    }
    const tiny = await get(gw.port, '/c/tiny', 'gzip');
    expect(tiny.headers['content-encoding']).toBeUndefined();
    const png = await get(gw.port, '/c/png', 'gzip');
    expect(png.headers['content-encoding']).toBeUndefined();
    expect(png.body.length).toBe(4096);
    const encoded = await get(gw.port, '/c/encoded', 'br');
    expect(encoded.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(encoded.body).toString()).toBe('already compressed by the backend');
    const head = await get(gw.port, '/c/json', 'gzip', 'HEAD');
    expect(head.headers['content-encoding']).toBeUndefined();
    // A route without the policy is never compressed.
    expect((await get(gw.port, '/c', 'gzip')).status).toBe(404);
  });

  it('flushes an event stream event by event: the first event arrives before the backend ends it', async () => {
    const first = await new Promise<{ text: string; rest: Promise<string> }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: gw.port, path: '/c/events', headers: { 'accept-encoding': 'gzip' } },
        (res) => {
          expect(res.headers['content-encoding']).toBe('gzip');
          const gunzip = createGunzip();
          res.pipe(gunzip);
          let text = '';
          let resolved = false;
          const rest = new Promise<string>((done) => gunzip.on('end', () => done(text)));
          gunzip.on('data', (d: Buffer) => {
            text += d.toString();
            if (!resolved && text.includes('first')) {
              resolved = true;
              resolve({ text, rest });
            }
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(first.text).toBe('data: first\n\n');
    releaseStream();
    expect(await first.rest).toBe('data: first\n\ndata: second\n\n');
  });
});
