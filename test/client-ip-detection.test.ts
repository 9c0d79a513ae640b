import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateSource } from '../operator/src/standalone/snapshot-to-config.ts';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  CONTROLLER,
  clientTrafficPolicyYaml,
  gatewayWithListeners,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

/**
 * ClientTrafficPolicy client IP detection on real sockets: three listeners, each trusting its
 * proxies a different way, in front of one route whose SecurityPolicy allows only 203.0.113.7.
 * Clients bind to addresses across 127.0.0.0/8 to play the trusted and untrusted proxies.
 */
describe('ClientTrafficPolicy clientIPDetection', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  const ports = { hops: 0, cidrs: 0, header: 0 };
  const accessLogFile = join(tmpdir(), `sluice-client-ip-${process.pid}.log`);

  beforeAll(async () => {
    backend = await startBackend('app');
    ports.hops = await freePort();
    ports.cidrs = await freePort();
    ports.header = await freePort();
    const policy = (name: string, section: string, detection: string) =>
      clientTrafficPolicyYaml(name, section, `  clientIPDetection: ${detection}\n`);
    gw = await startGateway(
      ports.hops,
      {
        'gateway.yaml': gatewayWithListeners(
          `    - {name: hops, port: ${ports.hops}, protocol: HTTP}
    - {name: cidrs, port: ${ports.cidrs}, protocol: HTTP}
    - {name: header, port: ${ports.header}, protocol: HTTP}
`,
        ),
        'objects.yaml': `${serviceYaml('app', [backend.port])}${prefixRouteYaml('app', '/', 'app')}---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: only-one-client, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
  authorization:
    defaultAction: Deny
    rules: [{action: Allow, principal: {clientCIDRs: [203.0.113.7/32]}}]
${policy('two-hops', 'hops', '{xForwardedFor: {numTrustedHops: 2}}')}${policy('known-proxies', 'cidrs', '{xForwardedFor: {trustedCIDRs: [127.0.0.10/32, 10.0.0.0/8]}}')}${policy('real-ip', 'header', '{customHeader: {name: X-Real-IP, failClosed: true}}')}`,
      },
      { accessLogFile },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
    await rm(accessLogFile, { force: true });
  });

  const on = (port: number, headers: Record<string, string>, from = '127.0.0.1') =>
    send(`http://127.0.0.1:${port}/`, { headers, from });

  it('two trusted hops: the client is the second entry from the right, never one the client wrote', async () => {
    expect((await on(ports.hops, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.1.1.1' })).status).toBe(
      200,
    );
    // A client prepending the allowed address gains nothing: the trusted proxies' entries come last.
    expect((await on(ports.hops, { 'x-forwarded-for': '203.0.113.7, 192.0.2.9, 10.1.1.1' })).status).toBe(
      403,
    );
    // Fewer entries than trusted hops: nobody vouched for any of them, so the peer is the client.
    expect((await on(ports.hops, { 'x-forwarded-for': '203.0.113.7' })).status).toBe(403);
    expect((await on(ports.hops, { 'x-forwarded-for': 'not-an-address, 10.1.1.1' })).status).toBe(403);
  });

  it('trusted proxy CIDRs: believed only from a trusted peer, skipping trusted entries from the right', async () => {
    const xff = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.0.0.5' };
    expect((await on(ports.cidrs, xff, '127.0.0.10')).status).toBe(200);
    // The same header from a peer that is not a trusted proxy is just a client's claim.
    expect((await on(ports.cidrs, xff, '127.0.0.11')).status).toBe(403);
  });

  it('a custom header with failClosed: the header is the client, and without it the request is refused', async () => {
    expect((await on(ports.header, { 'x-real-ip': '203.0.113.7' })).status).toBe(200);
    expect((await on(ports.header, { 'x-real-ip': '[203.0.113.8]:443' })).status).toBe(403);
    const missing = await on(ports.header, {});
    expect(missing.status).toBe(403);
    expect(missing.json<{ error: { message: string } }>().error.message).toContain('client address header');
    expect((await on(ports.header, { 'x-real-ip': 'garbage' })).status).toBe(403);
  });

  it('writes the detected client, not the proxy, in the access log', async () => {
    await on(ports.hops, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7, 10.1.1.1', 'x-mark': 'logged' });
    await expect
      .poll(async () => {
        const lines = (await readFile(accessLogFile, 'utf8').catch(() => ''))
          .trim()
          .split('\n')
          .filter(Boolean);
        return lines.map((l) => JSON.parse(l) as { client_ip: string; status: number }).at(-1);
      })
      .toMatchObject({ client_ip: '203.0.113.7', status: 200 });
  });

  it('reports each policy as accepted on the Gateway', async () => {
    const { result } = await translateSource(gw.dir, CONTROLLER);
    const accepted = result.statuses
      .filter((s) => s.kind === 'ClientTrafficPolicy')
      .map((s) => [s.name, JSON.stringify(s.status)]);
    expect(accepted).toHaveLength(3);
    for (const [name, status] of accepted) expect(status, name).toContain('"reason":"Accepted"');
  });
});
