import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSource } from '../../operator/src/provider/file/load-directory.ts';
import { translate } from '../../operator/src/translator/translate.ts';
import { startBackend, type TestBackend } from '../support/backends.ts';
import { CONTROLLER, gatewayYaml, serviceYaml, startGateway, type TestGateway } from '../support/gateway.ts';
import { send } from '../support/http.ts';
import { freePort } from '../support/ports.ts';

/**
 * Route regexes run on every request. With a backtracking engine, `/(a+)+` against a 32-character
 * path took 10.6 s of CPU, blocking every client; on RE2 semantics every match is linear.
 */
const routes = `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: regexes, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches: [{path: {type: RegularExpression, value: "/(a+)+"}}]
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /h}, headers: [{type: RegularExpression, name: x-evil, value: "(x+x+)+y"}]}]
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /q}, queryParams: [{type: RegularExpression, name: v, value: "(a|aa)+$"}]}]
      backendRefs: [{name: web, port: 80}]
    - matches: [{path: {value: /ok}}]
      backendRefs: [{name: web, port: 80}]
`;

describe('route regexes cannot freeze the proxy', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  beforeAll(async () => {
    backend = await startBackend('web');
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port) + routes + serviceYaml('web', [backend.port]),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await backend?.close();
  });

  it('answers crafted paths, headers and queries against nested quantifiers, and serves everyone else', async () => {
    const a = 'a'.repeat(4096);
    const x = 'x'.repeat(4096);
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => send(`${gw.url}/${a}!`)),
      ...Array.from({ length: 10 }, () => send(`${gw.url}/h`, { headers: { 'x-evil': x } })),
      ...Array.from({ length: 10 }, () => send(`${gw.url}/q?v=${a}b`)),
      send(`${gw.url}/ok`),
    ]);
    expect(answers.slice(0, 30).map((r) => r.status)).toEqual(Array(30).fill(404));
    expect(answers[30]!.status).toBe(200);
    // And the patterns still match what they describe.
    expect((await send(`${gw.url}/aaaa`)).status).toBe(200);
    expect((await send(`${gw.url}/h`, { headers: { 'x-evil': 'xxy' } })).status).toBe(200);
  });

  it('refuses patterns RE2 cannot run in linear time (backreferences, lookahead) with the reason', async () => {
    await gw.write(
      'bad.yaml',
      `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: lookahead, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches: [{path: {type: RegularExpression, value: "/(?=admin).*"}}]
      backendRefs: [{name: web, port: 80}]
`,
    );
    const { resources } = await loadSource(gw.dir);
    const status = translate(resources, { controllerName: CONTROLLER, now: Date.now() }).statuses.find(
      (s) => s.kind === 'HTTPRoute' && s.name === 'lookahead',
    );
    expect(JSON.stringify(status)).toMatch(/RE2 syntax/);
    // The rest of the config keeps serving.
    expect((await send(`${gw.url}/ok`)).status).toBe(200);
  });
});
