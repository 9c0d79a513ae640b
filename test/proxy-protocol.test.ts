import { type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import proxyProtocol from 'proxy-protocol-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  clientTrafficPolicyYaml,
  gatewayWithListeners,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { type IssuedCertificate, TestCa, tlsSecretYaml } from './support/tls.ts';

/** A v2 header (PROXY command, TCP) naming `source` as the client. */
function v2(source: string, port: number): Buffer {
  const ipv6 = source.includes(':');
  const pp = proxyProtocol;
  const address = ipv6
    ? new pp.IPv6ProxyAddress(
        pp.IPv6Address.createFrom([...expand(source)]),
        port,
        pp.IPv6Address.createFrom(new Array(16).fill(0)),
        443,
      )
    : new pp.IPv4ProxyAddress(
        pp.IPv4Address.createFrom(source.split('.').map(Number)),
        port,
        pp.IPv4Address.createFrom([10, 0, 0, 1]),
        443,
      );
  return Buffer.from(new pp.V2ProxyProtocol(pp.Command.PROXY, pp.TransportProtocol.STREAM, address).build());
}

/** An IPv6 address as its 16 bytes. */
function expand(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.from(groups.map((g) => g.padStart(4, '0')).join(''), 'hex');
}

const REQUEST = 'GET /whoami HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n';

/** Sends `chunks` on a fresh connection (with a pause between them) and reads until the peer closes. */
function exchange(port: number, chunks: (string | Buffer)[], gapMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = tcpConnect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += d.toString();
    });
    socket.on('close', () => resolve(text));
    socket.on('error', (err) => (text === '' ? resolve('') : reject(err)));
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

/** The client address the backend saw last, from X-Forwarded-For as the gateway wrote it. */
const forwardedFor = (answer: string) => {
  // The body comes chunked: the JSON object is between its first and last brace.
  const body = answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1);
  return (JSON.parse(body) as { headers: Record<string, string> }).headers['x-forwarded-for'];
};

describe('ClientTrafficPolicy proxyProtocol', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  let ca: TestCa;
  let cert: IssuedCertificate;
  const ports = { required: 0, optional: 0, plain: 0, tls: 0 };

  beforeAll(async () => {
    backend = await startBackend('app');
    for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
    ca = new TestCa();
    cert = ca.server('app', ['app.example.com']);
    const policy = (name: string, section: string, setting: string) =>
      clientTrafficPolicyYaml(name, section, `  proxyProtocol: ${setting}\n`);
    gw = await startGateway(ports.required, {
      'gateway.yaml': gatewayWithListeners(
        `    - {name: required, port: ${ports.required}, protocol: HTTP}
    - {name: optional, port: ${ports.optional}, protocol: HTTP}
    - {name: plain, port: ${ports.plain}, protocol: HTTP}
    - {name: tls, port: ${ports.tls}, protocol: HTTPS, tls: {certificateRefs: [{name: app-cert}]}}
`,
      ),
      'objects.yaml': `${serviceYaml('app', [backend.port])}${prefixRouteYaml('app', '/', 'app')}${tlsSecretYaml('app-cert', cert)}${policy('required', 'required', '{}')}${policy('optional', 'optional', '{optional: true}')}${policy('tls', 'tls', '{}')}`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('v1: the client the header names is the client (X-Forwarded-For), even with the header dripped byte by byte', async () => {
    const header = 'PROXY TCP4 203.0.113.7 10.0.0.1 51234 80\r\n';
    expect(forwardedFor(await exchange(ports.required, [header + REQUEST]))).toBe('203.0.113.7');
    expect(forwardedFor(await exchange(ports.required, [...header, REQUEST], 2))).toBe('203.0.113.7');
    const v6 = 'PROXY TCP6 2001:db8::7 2001:db8::1 51234 80\r\n';
    expect(forwardedFor(await exchange(ports.required, [v6, REQUEST]))).toBe('2001:db8::7');
  });

  it('v2: IPv4 and IPv6 clients; LOCAL (the balancer checking the port) keeps the peer', async () => {
    expect(
      forwardedFor(
        await exchange(ports.required, [Buffer.concat([v2('198.51.100.9', 4000), Buffer.from(REQUEST)])]),
      ),
    ).toBe('198.51.100.9');
    expect(forwardedFor(await exchange(ports.required, [v2('2001:db8:0:0:0:0:0:9', 4000), REQUEST]))).toBe(
      '2001:db8::9',
    );
    const pp = proxyProtocol;
    const local = Buffer.from(
      new pp.V2ProxyProtocol(
        pp.Command.LOCAL,
        pp.TransportProtocol.UNSPEC,
        new pp.UnspecProxyAddress(),
      ).build(),
    );
    expect(forwardedFor(await exchange(ports.required, [local, REQUEST]))).toBe('127.0.0.1');
  });

  it('closes connections without a valid header, and keeps serving the next one', async () => {
    expect(await exchange(ports.required, [REQUEST])).toBe('');
    expect(await exchange(ports.required, ['PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n', REQUEST])).toBe('');
    expect(await exchange(ports.required, [`PROXY ${'x'.repeat(200)}`])).toBe('');
    // A v2 header announcing 60 KB of TLVs is refused before it is read.
    const huge = v2('198.51.100.9', 1);
    huge.writeUInt16BE(60_000, 14);
    expect(await exchange(ports.required, [huge])).toBe('');
    expect(
      forwardedFor(await exchange(ports.required, ['PROXY TCP4 192.0.2.1 10.0.0.1 1 2\r\n', REQUEST])),
    ).toBe('192.0.2.1');
  });

  it('optional: connections with a header are believed, those without are served as they are', async () => {
    expect(
      forwardedFor(await exchange(ports.optional, ['PROXY TCP4 203.0.113.8 10.0.0.1 1 2\r\n', REQUEST])),
    ).toBe('203.0.113.8');
    expect(forwardedFor(await exchange(ports.optional, [REQUEST]))).toBe('127.0.0.1');
  });

  it('a listener without the policy treats a PROXY header as the garbage it is there (400), never as a client address', async () => {
    const answer = await exchange(ports.plain, ['PROXY TCP4 203.0.113.7 10.0.0.1 1 2\r\n', REQUEST]);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('HTTPS: the header comes before the TLS handshake, and the client it names reaches the backend', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const raw = tcpConnect(ports.tls, '127.0.0.1', () => {
        raw.write('PROXY TCP4 203.0.113.9 10.0.0.1 5555 443\r\n');
        const tls = tlsConnect({ socket: raw, servername: 'app.example.com', ca: ca.cert }, () =>
          tls.write(REQUEST.replace('host: app', 'host: app.example.com')),
        );
        let text = '';
        tls.on('data', (d) => {
          text += d.toString();
        });
        tls.on('end', () => resolve(text));
        tls.on('close', () => resolve(text));
        tls.on('error', reject);
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(forwardedFor(answer)).toBe('203.0.113.9');
  });
});
