import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from '../support/gateway.ts';
import { freePort } from '../support/ports.ts';
import { firstBody, rawExchange, statuses } from '../support/raw-socket.ts';

/** A rule for /public must never serve /private, however the path is spelt. */
describe('path normalisation before matching', () => {
  let pub: TestBackend;
  let gw: TestGateway;
  beforeAll(async () => {
    pub = await startBackend('public');
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': `${gatewayYaml(port)}${serviceYaml('public', [pub.port])}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: public, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{matches: [{path: {type: PathPrefix, value: /public}}], backendRefs: [{name: public, port: 80}]}]
`,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await pub?.close();
  });

  const get = async (path: string) => {
    const { received } = await rawExchange(gw.port, [
      `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    ]);
    return { status: statuses(received)[0], body: firstBody(received) };
  };

  const tricks = [
    '/public/../private',
    '/public/%2e%2e/private',
    '/public/%2E%2E/private',
    '/public/.%2e/private',
    '/public/%2e./private',
    '/public/./../private',
    '/public//../private',
    '/public/x/../../private',
    '//public/../private',
    '/public/..//private',
    '/%70ublic/../private',
  ];
  for (const path of tricks)
    it(`does not serve /private through ${path}`, async () => {
      const res = await get(path);
      // Normalised to /private, which no rule serves.
      expect(res.status).toBe(404);
    });

  it('keeps an encoded slash inside its segment: /public%2F..%2Fprivate matches no /public rule', async () => {
    expect((await get('/public%2F..%2Fprivate')).status).toBe(404);
  });

  it('forwards the normalised path, with unreserved characters decoded', async () => {
    const res = await get('/public//a/./b/../%7Ec?x=%2e%2e');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ path: '/public/a/~c', query: '?x=%2e%2e' });
  });

  it('refuses a malformed percent-encoding with 400 invalid_path', async () => {
    const res = await get('/public/%zz');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error?.code, res.body).toBe('invalid_path');
  });
});
