import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

/** The policy OPA evaluates for every check: the CheckRequest (proto field names) is its input. */
const REGO = `package envoy.authz

import rego.v1

default allow := {"allowed": false, "http_status": 403, "body": "denied by policy", "headers": {"x-denied-by": "opa"}}

allow := {"allowed": true, "headers": {"x-opa-user": user}} if {
  http := input.attributes.request.http
  http.method == "GET"
  startswith(http.path, "/orders")
  user := http.headers["x-user"]
  user in {"alice", "bob"}
  input.attributes.source.address.socket_address.address != "127.0.0.9"
}
`;

/**
 * External authorization over Envoy's gRPC API against a real OPA: our small server
 * (test/support/opa-authz) evaluates Rego with OPA v1.22 on each Authorization/Check, as OPA's
 * Envoy plugin does (that plugin is not available as a Go module here).
 */
describe('SecurityPolicy extAuth over gRPC (Envoy Authorization/Check) with OPA', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  let opa: ChildProcess;
  let dir: string;

  beforeAll(async () => {
    const binary = execFileSync('bash', [join(import.meta.dirname, 'cluster', 'build-opa-authz.sh')], {
      encoding: 'utf8',
    }).trim();
    dir = await mkdtemp(join(tmpdir(), 'sluice-opa-'));
    await writeFile(join(dir, 'policy.rego'), REGO);
    const opaPort = await freePort();
    opa = spawn(binary, ['-addr', `127.0.0.1:${opaPort}`, '-policy', join(dir, 'policy.rego')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      opa.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('listening on')) resolve();
      });
      opa.once('exit', () => reject(new Error(`opa-authz exited: ${err}`)));
    });
    backend = await startBackend('orders');
    const port = await freePort();
    gw = await startGateway(
      port,
      {
        'gateway.yaml': gatewayYaml(port),
        'objects.yaml': `${serviceYaml('orders', [backend.port])}${serviceYaml('opa', [opaPort])}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: orders, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: orders, port: 80}]}]
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: opa, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: orders}]
  extAuth:
    grpc: {backendRefs: [{name: opa, port: 80}]}
    timeout: 2s
`,
      },
      { bindAddress: '::' },
    );
  }, 300_000);
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
    opa?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it("allows what the policy allows, with the headers OPA adds, and relays OPA's denials", async () => {
    const ok = await send(`${gw.url}/orders/7?full=1`, { headers: { 'x-user': 'alice' } });
    expect(ok.status).toBe(200);
    expect(ok.json().headers['x-opa-user']).toBe('alice');
    const denied = await send(`${gw.url}/orders/7`, { method: 'POST', headers: { 'x-user': 'alice' } });
    expect(denied.status).toBe(403);
    expect(denied.text).toBe('denied by policy');
    expect(denied.headers['x-denied-by']).toBe('opa');
    expect((await send(`${gw.url}/orders/7`, { headers: { 'x-user': 'mallory' } })).status).toBe(403);
  });

  it('gives the authorizer the client address (a rule on it decides)', async () => {
    const blocked = await send(`http://127.0.0.1:${gw.port}/orders/1`, {
      headers: { 'x-user': 'bob' },
      from: '127.0.0.9',
    });
    expect(blocked.status).toBe(403);
    const other = await send(`http://127.0.0.1:${gw.port}/orders/1`, {
      headers: { 'x-user': 'bob' },
      from: '127.0.0.8',
    });
    expect(other.status).toBe(200);
  });

  it('fails closed with 503 when the authorizer is gone, and counts it', async () => {
    opa.kill('SIGKILL');
    await new Promise((r) => opa.once('exit', r));
    const res = await send(`${gw.url}/orders/7`, { headers: { 'x-user': 'alice' } });
    expect(res.status).toBe(503);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('authorizer_unavailable');
    const samples = await scrapeMetrics(gw.adminPort);
    expect(
      sumOf(samples, 'sluice_security_decisions_total', { policy: 'default/opa', result: 'error' }),
    ).toBeGreaterThan(0);
    expect(
      sumOf(samples, 'sluice_security_decisions_total', { policy: 'default/opa', result: 'allow' }),
    ).toBeGreaterThan(0);
  });
});
