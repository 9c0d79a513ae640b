import { createServer } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSource } from '../operator/src/provider/file/load-directory.ts';
import { translate } from '../operator/src/translator/translate.ts';
import {
  CONTROLLER,
  gatewayYaml,
  serviceRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { caConfigMapYaml, TestCa } from './support/tls.ts';

const route = serviceRouteYaml('web', 'secure');

const policy = (hostname: string, caRef: string) => `---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: secure-tls, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: secure}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: ${caRef}}]
    hostname: ${hostname}
`;

/** BackendTLSPolicy: TLS from the proxy to a Service, verified against a CA bundle and a hostname. */
describe('BackendTLSPolicy', () => {
  let trusted: TestCa;
  let stranger: TestCa;
  let backendPort: number;
  let close: () => void;
  let gw: TestGateway;

  beforeAll(async () => {
    trusted = new TestCa();
    stranger = new TestCa(undefined, '/CN=unknown-ca');
    const cert = trusted.server('backend', ['backend.internal']);
    const server = createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ server: 'tls-backend', sni: (req.socket as { servername?: string }).servername }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    backendPort = (server.address() as { port: number }).port;
    close = () => server.close();
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port) + route + serviceYaml('secure', [backendPort]),
      'cas.yaml': caConfigMapYaml('trusted-ca', trusted.cert) + caConfigMapYaml('stranger-ca', stranger.cert),
    });
  });
  afterAll(async () => {
    await gw?.close();
    close?.();
  });

  it('without a policy the proxy speaks plain HTTP, which a TLS backend refuses (502)', async () => {
    expect((await send(`${gw.url}/`)).status).toBe(502);
  });

  it('with the CA and hostname configured it connects over verified TLS, sending the hostname as SNI', async () => {
    await gw.write('policy.yaml', policy('backend.internal', 'trusted-ca'));
    const res = await send(`${gw.url}/`);
    expect(res.status).toBe(200);
    expect(res.json<{ server: string; sni: string }>()).toEqual({
      server: 'tls-backend',
      sni: 'backend.internal',
    });
  });

  it('refuses a backend whose certificate comes from a CA it was not given', async () => {
    await gw.write('policy.yaml', policy('backend.internal', 'stranger-ca'));
    expect((await send(`${gw.url}/`)).status).toBe(502);
  });

  it('refuses a backend whose certificate does not name the policy hostname', async () => {
    await gw.write('policy.yaml', policy('other.internal', 'trusted-ca'));
    expect((await send(`${gw.url}/`)).status).toBe(502);
  });

  it('reports the policy on each Gateway using it, and a missing CA ConfigMap as InvalidCACertificateRef', async () => {
    await gw.write('policy.yaml', policy('backend.internal', 'no-such-configmap'));
    expect((await send(`${gw.url}/`)).status).toBe(502);
    const { resources } = await loadSource(gw.dir);
    const status = translate(resources, { controllerName: CONTROLLER, now: Date.now() }).statuses.find(
      (s) => s.kind === 'BackendTLSPolicy',
    );
    expect(status).toMatchObject({
      status: {
        ancestors: [
          {
            ancestorRef: { kind: 'Gateway', namespace: 'default', name: 'gw' },
            conditions: [
              { type: 'Accepted', status: 'True' },
              { type: 'ResolvedRefs', status: 'False', reason: 'InvalidCACertificateRef' },
            ],
          },
        ],
      },
    });
  });
});
