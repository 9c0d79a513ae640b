import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createTcpServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  clientTrafficPolicyYaml,
  gatewayWithListeners,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { TestCa } from './support/tls.ts';

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

/** Sends `text` over TCP (or TLS with `servername`) and returns the first answer (or nothing within 300 ms). */
function exchange(
  port: number,
  text: string,
  tls?: { servername?: string; ca: string },
): Promise<{ reply: string; peer?: string; error?: string }> {
  return new Promise((resolve) => {
    let reply = '';
    let peer: string | undefined;
    const socket: Socket = tls
      ? tlsConnect(
          { port, host: '127.0.0.1', ca: tls.ca, ...(tls.servername ? { servername: tls.servername } : {}) },
          function (this: TLSSocket) {
            peer = this.getPeerCertificate().subject?.CN as string;
            this.write(text);
          },
        )
      : netConnect(port, '127.0.0.1', () => socket.write(text));
    socket.setTimeout(300, () => socket.end());
    socket.on('data', (d) => {
      reply += d.toString();
      socket.end();
    });
    socket.on('close', () => resolve({ reply, ...(peer ? { peer } : {}) }));
    socket.on('error', (err) => resolve({ reply, error: err.message }));
  });
}

describe('TCPRoute, UDPRoute and TLSRoute (passthrough) on their listeners', () => {
  const servers: { close(): void }[] = [];
  let gw: TestGateway;
  let ports: { tcp: number; udp: number; tls: number };
  let ca: TestCa;

  beforeAll(async () => {
    ca = new TestCa();
    // Backends: two TCP echoes that name themselves, a UDP echo, two TLS servers with their own certificates.
    const tcpEcho = (name: string) => createTcpServer((s) => s.on('data', (d) => s.write(`${name}:${d}`)));
    const echoA = tcpEcho('a');
    const echoB = tcpEcho('b');
    const [a, b] = [await listen(echoA), await listen(echoB)];
    const udp = createSocket('udp4');
    udp.on('message', (msg, from) => udp.send(`udp:${msg}`, from.port, from.address));
    const udpPort = await new Promise<number>((r) => udp.bind(0, '127.0.0.1', () => r(udp.address().port)));
    const tlsBackend = (host: string) => {
      const c = ca.server(host, [host]);
      return createTlsServer({ cert: c.cert, key: c.key }, (s) =>
        s.on('data', (d) => s.write(`${host}:${d}`)),
      );
    };
    const shop = tlsBackend('shop.example.com');
    const blog = tlsBackend('blog.example.com');
    const [shopPort, blogPort] = [await listen(shop), await listen(blog)];
    servers.push(echoA, echoB, shop, blog, { close: () => udp.close() });

    ports = { tcp: await freePort(), udp: await freePort(), tls: await freePort() };
    gw = await startGateway(ports.tcp, {
      'gateway.yaml': `${gatewayWithListeners(`    - {name: tcp, port: ${ports.tcp}, protocol: TCP}
    - {name: udp, port: ${ports.udp}, protocol: UDP}
    - {name: tls, port: ${ports.tls}, protocol: TLS, tls: {mode: Passthrough}}
`)}---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: echo-a, port: 80, weight: 3}, {name: echo-b, port: 80, weight: 1}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: UDPRoute
metadata: {name: echo, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: udp}]
  rules: [{backendRefs: [{name: udp-echo, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: shop, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tls}]
  hostnames: [shop.example.com]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: blog, namespace: default}
spec:
  parentRefs: [{name: gw, sectionName: tls}]
  hostnames: [blog.example.com]
  rules: [{backendRefs: [{name: blog, port: 80}]}]
`,
      'backends.yaml':
        serviceYaml('echo-a', [a]) +
        serviceYaml('echo-b', [b]) +
        serviceYaml('udp-echo', [udpPort]) +
        serviceYaml('shop', [shopPort]) +
        serviceYaml('blog', [blogPort]) +
        clientTrafficPolicyYaml('idle', 'tcp', '  timeout: {tcp: {idleTimeout: 500ms}}\n'),
    });
  });
  afterAll(async () => {
    await gw?.close();
    for (const s of servers) s.close();
  });

  it('relays TCP both ways and splits connections by weight (about 3:1 over 200)', async () => {
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 200; i++) {
      const { reply } = await exchange(ports.tcp, 'ping');
      expect(reply).toMatch(/^[ab]:ping$/);
      counts[reply[0] as 'a' | 'b']++;
    }
    expect(counts.a).toBeGreaterThan(120);
    expect(counts.b).toBeGreaterThan(25);
  });

  it('closes a TCP session idle longer than the ClientTrafficPolicy tcp.idleTimeout (500 ms, not the 300 s default)', async () => {
    const socket = netConnect(ports.tcp, '127.0.0.1');
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString();
    });
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    socket.write('still here');
    const outcome = await Promise.race([
      new Promise<string>((r) => socket.once('close', () => r('closed by the gateway'))),
      new Promise<string>((r) => setTimeout(() => r('still open after 10 s'), 10_000).unref()),
    ]);
    socket.destroy();
    expect(reply).toMatch(/^[ab]:still here$/);
    expect(outcome).toBe('closed by the gateway');
  });

  it('relays UDP datagrams and their answers', async () => {
    const client = createSocket('udp4');
    const replies: string[] = [];
    client.on('message', (m) => replies.push(m.toString()));
    for (const word of ['one', 'two', 'three']) client.send(word, ports.udp, '127.0.0.1');
    await vi.waitFor(() => expect(replies).toHaveLength(3), { timeout: 5000, interval: 20 });
    client.close();
    expect(replies.sort()).toEqual(['udp:one', 'udp:three', 'udp:two']);
  });

  it('passes TLS through by SNI: each client verifies the backend certificate, never the proxy', async () => {
    const shop = await exchange(ports.tls, 'hi', { servername: 'shop.example.com', ca: ca.cert });
    expect(shop).toMatchObject({ peer: 'shop.example.com', reply: 'shop.example.com:hi' });
    const blog = await exchange(ports.tls, 'hi', { servername: 'blog.example.com', ca: ca.cert });
    expect(blog).toMatchObject({ peer: 'blog.example.com', reply: 'blog.example.com:hi' });
    // The proxy holds no key: nothing in its directory or config is a private key.
    for (const f of readdirSync(gw.dir))
      expect(readFileSync(join(gw.dir, f), 'utf8')).not.toContain('PRIVATE KEY');
  });

  it('closes TLS connections with an unknown SNI, no SNI, or no TLS at all, and keeps serving others', async () => {
    expect(
      (await exchange(ports.tls, 'hi', { servername: 'unknown.example.com', ca: ca.cert })).error,
    ).toBeDefined();
    expect((await exchange(ports.tls, 'hi', { ca: ca.cert })).error).toBeDefined();
    expect((await exchange(ports.tls, 'GET / HTTP/1.1\r\n\r\n')).reply).toBe('');
    expect((await exchange(ports.tls, 'hi', { servername: 'shop.example.com', ca: ca.cert })).reply).toBe(
      'shop.example.com:hi',
    );
  });
});
