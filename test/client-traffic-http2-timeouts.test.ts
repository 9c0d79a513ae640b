import { type ClientHttp2Session, connect as http2Connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  clientTrafficPolicyYaml,
  gatewayWithListeners,
  serviceRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { TestCa, tlsSecretYaml } from './support/tls.ts';

/** One HTTP/2 request: the status, once the stream ends (or how it ended without one). */
function h2Request(
  session: ClientHttp2Session,
  headers: Record<string, string>,
  body: 'none' | 'never-ends',
): Promise<{ status: number; text: string } | { error: string }> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: body === 'none' });
    if (body === 'never-ends') stream.write('{"partial":');
    let status = 0;
    let text = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.on('data', (d: Buffer) => {
      text += d.toString();
    });
    stream.on('end', () => resolve({ status, text }));
    stream.on('error', (err) => resolve(status ? { status, text } : { error: err.message }));
  });
}

/**
 * ClientTrafficPolicy HTTP timeouts on HTTPS ports and HTTP/2: the request-received timeout for
 * HTTP/1.1 over TLS and for HTTP/2 streams (TLS and h2c), and the idle timeout of HTTP/2 sessions.
 */
describe('ClientTrafficPolicy timeouts on HTTPS and HTTP/2', () => {
  let ca: TestCa;
  let backend: TestBackend;
  let gw: TestGateway;
  let tlsPort: number;
  let plainPort: number;

  beforeAll(async () => {
    ca = new TestCa();
    backend = await startBackend('app');
    tlsPort = await freePort();
    plainPort = await freePort();
    gw = await startGateway(plainPort, {
      'gateway.yaml': gatewayWithListeners(
        `    - {name: secure, port: ${tlsPort}, protocol: HTTPS, hostname: api.example.com, tls: {certificateRefs: [{name: api-cert}]}}
    - {name: plain, port: ${plainPort}, protocol: HTTP}
`,
      ),
      'objects.yaml': `${tlsSecretYaml('api-cert', ca.server('api', ['api.example.com']))}${serviceYaml('app', [backend.port])}${serviceRouteYaml('app', 'app')}${clientTrafficPolicyYaml(
        'timeouts',
        undefined,
        '  timeout: {http: {requestReceivedTimeout: 1s, idleTimeout: 2s}}\n',
      )}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('HTTP/1.1 over TLS: a request head that never completes gets 408 after the timeout, not 300 s', async () => {
    const socket = tlsConnect({
      port: tlsPort,
      host: '127.0.0.1',
      servername: 'api.example.com',
      ca: ca.cert,
    });
    socket.on('error', () => {});
    await new Promise((r) => socket.once('secureConnect', r));
    socket.write('GET / HTTP/1.1\r\nHost: api.example.com\r\n');
    const started = performance.now();
    const text = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
      });
      socket.once('close', () => resolve(got));
    });
    expect(text).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  for (const scheme of ['https', 'http'] as const) {
    it(`HTTP/2 (${scheme === 'https' ? 'TLS' : 'h2c'}): a stream whose body never ends gets 408; the session serves other streams meanwhile`, async () => {
      const session =
        scheme === 'https'
          ? http2Connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.cert, servername: 'api.example.com' })
          : http2Connect(`http://127.0.0.1:${plainPort}`);
      session.on('error', () => {});
      const authority = scheme === 'https' ? 'api.example.com' : 'a';
      const stalled = h2Request(
        session,
        {
          ':method': 'POST',
          ':path': '/upload',
          ':authority': authority,
          'content-type': 'application/json',
        },
        'never-ends',
      );
      const other = await h2Request(
        session,
        { ':method': 'GET', ':path': '/', ':authority': authority },
        'none',
      );
      expect(other).toMatchObject({ status: 200 });
      const answer = await stalled;
      expect(answer).toMatchObject({ status: 408 });
      expect((answer as { text: string }).text).toContain('did not arrive in time');
      // The session outlives the stream it timed out.
      expect(
        await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': authority }, 'none'),
      ).toMatchObject({
        status: 200,
      });
      session.close();
    });
  }

  it('HTTP/2: a body sent without a content-length reaches the backend whole (it was once dropped)', async () => {
    const session = http2Connect(`http://127.0.0.1:${plainPort}`);
    session.on('error', () => {});
    const stream = session.request({ ':method': 'POST', ':path': '/echo', ':authority': 'a' });
    stream.write('first,');
    stream.end('second');
    let text = '';
    stream.on('data', (d: Buffer) => {
      text += d.toString();
    });
    await new Promise((r) => stream.once('end', r));
    expect(JSON.parse(text).body).toBe('first,second');
    session.close();
  });

  it('HTTP/2: a session with nothing in flight for the idle timeout is closed with GOAWAY', async () => {
    const session = http2Connect(`https://127.0.0.1:${tlsPort}`, {
      ca: ca.cert,
      servername: 'api.example.com',
    });
    session.on('error', () => {});
    const goaway = new Promise<number>((resolve) => session.once('goaway', (code: number) => resolve(code)));
    expect(
      await h2Request(session, { ':method': 'GET', ':path': '/', ':authority': 'api.example.com' }, 'none'),
    ).toMatchObject({ status: 200 });
    const idleSince = performance.now();
    expect(await goaway).toBe(0);
    // The policy's 2 s, not the 60 s default (and not before the 2 s).
    const idle = performance.now() - idleSince;
    expect(idle).toBeGreaterThanOrEqual(1500);
    expect(idle).toBeLessThan(30_000);
    session.destroy();
  });
});
