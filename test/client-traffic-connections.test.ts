import { execFileSync } from 'node:child_process';
import { connect as h2connect } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './cluster/sluice-process.ts';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  clientTrafficPolicyYaml,
  gatewayWithListeners,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { type IssuedCertificate, TestCa, tlsSecretYaml } from './support/tls.ts';

/** ClientTrafficPolicy `http2` settings and `tcpKeepalive`, seen from real clients. */
/** Writes `requests` on one connection, one after the other's answer; the answers read until it closes. */
function oneConnection(port: number, paths: string[]): Promise<{ answers: string[]; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let buffer = '';
    const answers: string[] = [];
    let next = 0;
    const send = () => {
      if (next < paths.length) socket.write(`GET ${paths[next++]} HTTP/1.1\r\nhost: app\r\n\r\n`);
    };
    socket.on('connect', send);
    socket.on('data', (d) => {
      buffer += d.toString();
      // The echo backend's answers are JSON objects: one complete object, one answer.
      for (;;) {
        const end = buffer.indexOf('\r\n0\r\n\r\n');
        if (end === -1) break;
        answers.push(buffer.slice(0, end));
        buffer = buffer.slice(end + 7);
        send();
      }
    });
    socket.on('close', () => resolve({ answers, closed: true }));
    socket.on('error', () => {});
  });
}

describe('ClientTrafficPolicy http2 and tcpKeepalive', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  let ca: TestCa;
  let cert: IssuedCertificate;
  const ports = { https: 0, http: 0, limits: 0 };

  beforeAll(async () => {
    backend = await startBackend('app');
    ports.https = await freePort();
    ports.http = await freePort();
    ports.limits = await freePort();
    ca = new TestCa();
    cert = ca.server('app', ['app.example.com']);
    gw = await startGateway(ports.http, {
      'gateway.yaml': gatewayWithListeners(
        `    - {name: http, port: ${ports.http}, protocol: HTTP}
    - {name: tls, port: ${ports.https}, protocol: HTTPS, tls: {certificateRefs: [{name: app-cert}]}}
    - {name: limits, port: ${ports.limits}, protocol: HTTP}
`,
      ),
      'objects.yaml': `${serviceYaml('app', [backend.port])}${prefixRouteYaml('app', '/', 'app')}${tlsSecretYaml('app-cert', cert)}${clientTrafficPolicyYaml(
        'connections',
        undefined,
        `  tcpKeepalive: {idleTime: 45s}
  headers: {requestID: Generate}
  connection: {maxRequestsPerConnection: 2}
  http2: {maxConcurrentStreams: 7, initialStreamWindowSize: 1Mi, initialConnectionWindowSize: 4Mi}
`,
      )}${clientTrafficPolicyYaml(
        'lifetimes',
        'limits',
        '  connection: {maxRequestsPerConnection: 3, maxConnectionDuration: 1s}\n',
      )}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('advertises the HTTP/2 settings and opens the connection window', async () => {
    const session = h2connect(`https://127.0.0.1:${ports.https}`, {
      ca: ca.cert,
      servername: 'app.example.com',
    });
    try {
      const settings = await new Promise<{ maxConcurrentStreams?: number; initialWindowSize?: number }>(
        (resolve, reject) => {
          session.once('remoteSettings', resolve);
          session.once('error', reject);
        },
      );
      expect(settings.maxConcurrentStreams).toBe(7);
      expect(settings.initialWindowSize).toBe(1_048_576);
      // What the client may send on the whole connection grows to the configured window.
      await waitFor(() => session.state.remoteWindowSize! > 65_535, 'the connection window to open', 10_000);
      expect(session.state.remoteWindowSize).toBe(4_194_304);
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/', ':authority': 'app.example.com' });
        req.on('response', (h) => resolve(Number(h[':status'])));
        req.on('error', reject);
        req.resume();
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('turns TCP keepalive on for client connections, with the idle time asked for', async () => {
    const socket = tcpConnect(ports.http, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    try {
      const local = socket.localPort;
      // The server side of this connection, as the kernel shows it: a keepalive timer of ~45 s.
      let line = '';
      await waitFor(
        () => {
          line = execFileSync('ss', ['-tno', 'state', 'established', `( dport = :${local} )`]).toString();
          return /timer:\(keepalive,/.test(line);
        },
        'the server socket to show a keepalive timer',
        10_000,
      );
      const seconds = Number(
        /timer:\(keepalive,(\d+)(?:\.\d+)?sec/.exec(line)?.[1] ??
          /timer:\(keepalive,(\d+)min/.exec(line)?.[1],
      );
      expect(seconds).toBeGreaterThan(30);
      expect(seconds).toBeLessThanOrEqual(45);
    } finally {
      socket.destroy();
    }
  });

  it('maxRequestsPerConnection: the third answer says Connection: close; a client that sends more anyway gets 503', async () => {
    const seen = backend.seen.length;
    const { answers } = await oneConnection(ports.limits, ['/1', '/2', '/3', '/4', '/5']);
    expect(answers.map((a) => a.slice(9, 12))).toEqual(['200', '200', '200', '503', '503']);
    expect(answers[0]!.toLowerCase()).not.toContain('connection: close');
    expect(answers[2]!.toLowerCase()).toContain('connection: close');
    // Only the three allowed requests reached the backend.
    expect(backend.seen.length - seen).toBe(3);
  });

  it('maxConnectionDuration: an idle connection is closed once it is a second old; a busy one finishes its answer first', async () => {
    const idle = tcpConnect(ports.limits, '127.0.0.1');
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    await idleClosed;
    // A request still running when the connection comes of age is answered, with Connection: close.
    const busy = await oneConnection(ports.limits, ['/slow?delay=1500']);
    expect(busy.answers).toHaveLength(1);
    expect(busy.answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(busy.answers[0]!.toLowerCase()).toContain('connection: close');
  });

  it('maxRequestsPerConnection on HTTPS: an HTTP/2 session is closed gracefully (GOAWAY) after two streams', async () => {
    const session = h2connect(`https://127.0.0.1:${ports.https}`, {
      ca: ca.cert,
      servername: 'app.example.com',
    });
    const goaway = new Promise<void>((r) => session.once('goaway', () => r()));
    try {
      const get = () =>
        new Promise<number>((resolve, reject) => {
          const req = session.request({ ':path': '/', ':authority': 'app.example.com' });
          req.on('response', (h) => resolve(Number(h[':status'])));
          req.on('error', reject);
          req.resume();
          req.end();
        });
      // Both streams are answered; then the server says goodbye.
      expect(await Promise.all([get(), get()])).toEqual([200, 200]);
      await goaway;
    } finally {
      session.close();
    }
  });

  it('headers.requestID Generate: every request gets a new id, on the answer and upstream, whatever the client sent', async () => {
    const res = await send(`http://127.0.0.1:${ports.http}/`, {
      headers: { 'x-request-id': 'client-chosen' },
    });
    const id = res.headers['x-request-id'] as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json().headers['x-request-id']).toBe(id);
  });
});
