import { request as httpsRequest } from 'node:https';
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
import { type IssuedCertificate, TestCa, tlsSecretYaml } from './support/tls.ts';

function get(port: number, ca: string, client?: IssuedCertificate, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: 'api.example.com',
        headers: { host: 'api.example.com', ...headers },
        ca,
        agent: false,
        ...(client ? { cert: client.cert, key: client.key } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

const gateway = (port: number, mode: string) =>
  `${gatewayWithListeners(
    `    - {name: api, port: ${port}, protocol: HTTPS, hostname: api.example.com, tls: {certificateRefs: [{name: api-cert}]}}\n`,
  )}  tls:
    frontend:
      default:
        validation:
          mode: ${mode}
          caCertificateRefs: [{group: "", kind: ConfigMap, name: client-ca}]
${serviceRouteYaml('api', 'web')}`;

/** Frontend mTLS: a listener that validates client certificates against a CA bundle. */
describe('client certificates (Gateway spec.tls.frontend)', () => {
  let serverCa: TestCa;
  let clientCa: TestCa;
  let stranger: TestCa;
  let backend: TestBackend;
  let gw: TestGateway;
  let port: number;
  let files: Record<string, string>;

  beforeAll(async () => {
    serverCa = new TestCa();
    clientCa = new TestCa(undefined, '/CN=clients-ca');
    stranger = new TestCa(undefined, '/CN=stranger-ca');
    backend = await startBackend('web');
    port = await freePort();
    const pem = clientCa.cert
      .trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n');
    files = {
      'backend.yaml': serviceYaml('web', [backend.port]),
      'certs.yaml': `${tlsSecretYaml('api-cert', serverCa.server('api', ['api.example.com']))}---
apiVersion: v1
kind: ConfigMap
metadata: {name: client-ca, namespace: default}
data:
  ca.crt: |
${pem}
`,
    };
    gw = await startGateway(port, { 'gateway.yaml': gateway(port, 'AllowValidOnly'), ...files });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  const clientCert = (ca: TestCa, name: string) =>
    ca.issue(name, `/CN=${name}/O=acme`, 'extendedKeyUsage=clientAuth\n');

  it('AllowValidOnly: a client with a certificate from the CA gets through, and the backend learns who it is', async () => {
    const res = await get(port, serverCa.cert, clientCert(clientCa, 'billing-service'), {
      'x-forwarded-client-cert': 'forged',
    });
    expect(res).toMatchObject({ status: 200 });
    const xfcc = JSON.parse((res as { body: string }).body).headers['x-forwarded-client-cert'] as string;
    expect(xfcc).toMatch(/^Hash=[0-9a-f]{64};Subject="CN=billing-service,O=acme"$/);
  });

  it('AllowValidOnly: no certificate, or one from another CA, is refused at the handshake', async () => {
    expect(await get(port, serverCa.cert)).toHaveProperty('error');
    expect(await get(port, serverCa.cert, clientCert(stranger, 'intruder'))).toHaveProperty('error');
  });

  it('AllowInsecureFallback: clients without a certificate are served, without an identity', async () => {
    await gw.write('gateway.yaml', gateway(port, 'AllowInsecureFallback'));
    const anonymous = await get(port, serverCa.cert, undefined, { 'x-forwarded-client-cert': 'forged' });
    expect(anonymous).toMatchObject({ status: 200 });
    expect(
      JSON.parse((anonymous as { body: string }).body).headers['x-forwarded-client-cert'],
    ).toBeUndefined();
    const known = await get(port, serverCa.cert, clientCert(clientCa, 'reporting'));
    expect(JSON.parse((known as { body: string }).body).headers['x-forwarded-client-cert']).toContain(
      'CN=reporting',
    );
  });

  /** The XFCC header the backend gets under a ClientTrafficPolicy `headers.xForwardedClientCert`. */
  async function xfccUnder(policy: string, client: IssuedCertificate | undefined, sent?: string) {
    await gw.write(
      'policy.yaml',
      clientTrafficPolicyYaml('xfcc', undefined, `  headers: {xForwardedClientCert: ${policy}}\n`),
    );
    const headers: Record<string, string> = sent === undefined ? {} : { 'x-forwarded-client-cert': sent };
    const res = await get(port, serverCa.cert, client, headers);
    return (res as { body?: string }).body === undefined
      ? undefined
      : (JSON.parse((res as { body: string }).body).headers['x-forwarded-client-cert'] as string | undefined);
  }

  it('headers.xForwardedClientCert: each of the five modes, and the certificate details asked for', async () => {
    await gw.write('gateway.yaml', gateway(port, 'AllowInsecureFallback'));
    const spiffe = clientCa.issue(
      'ledger',
      '/CN=ledger/O=acme',
      'extendedKeyUsage=clientAuth\nsubjectAltName=URI:spiffe://acme/ns/pay/sa/ledger,DNS:ledger.pay.svc\n',
    );
    const upstream = 'By=spiffe://front;Hash=abc';
    // Sanitize: nothing reaches the backend, whatever the client sends or presents.
    expect(await xfccUnder('{mode: Sanitize}', spiffe, upstream)).toBeUndefined();
    // ForwardOnly: the client's header passes over mTLS only.
    expect(await xfccUnder('{mode: ForwardOnly}', spiffe, upstream)).toBe(upstream);
    expect(await xfccUnder('{mode: ForwardOnly}', undefined, upstream)).toBeUndefined();
    // AlwaysForwardOnly: it passes without a client certificate too.
    expect(await xfccUnder('{mode: AlwaysForwardOnly}', undefined, upstream)).toBe(upstream);
    // AppendForward: this client's entry after the one it sent, with the SANs asked for.
    const appended = await xfccUnder(
      '{mode: AppendForward, certDetailsToAdd: [URI, DNS, Subject]}',
      spiffe,
      upstream,
    );
    expect(appended).toMatch(
      /^By=spiffe:\/\/front;Hash=abc,Hash=[0-9a-f]{64};Subject="CN=ledger,O=acme";URI=spiffe:\/\/acme\/ns\/pay\/sa\/ledger;DNS=ledger\.pay\.svc$/,
    );
    expect(await xfccUnder('{mode: AppendForward}', undefined, upstream)).toBeUndefined();
    // SanitizeSet with Cert: the sent header is replaced by this client's, carrying its PEM.
    const set = await xfccUnder('{mode: SanitizeSet, certDetailsToAdd: [Cert]}', spiffe, upstream);
    expect(set).toMatch(/^Hash=[0-9a-f]{64};Cert="[^"]+"$/);
    const pem = decodeURIComponent(/Cert="([^"]+)"/.exec(set!)![1]!);
    expect(pem.replace(/\s/g, '')).toBe(spiffe.cert.replace(/\s/g, ''));
  });
});
