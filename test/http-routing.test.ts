import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

/** Every match type and precedence rule, through standalone mode and real sockets. */
describe('HTTPRoute matching over real sockets', () => {
  const names = [
    'exact',
    'prefix',
    'regex',
    'header',
    'header-regex',
    'query',
    'method',
    'root',
    'older',
    'newer',
    'ns-a',
    'ns-b',
    'wild',
    'host',
  ];
  const backends: Record<string, TestBackend> = {};
  let gw: TestGateway;

  beforeAll(async () => {
    for (const n of names) backends[n] = await startBackend(n);
    const port = await freePort();
    const services = names.map((n) => serviceYaml(n, [backends[n]!.port])).join('');
    const crossNs = ['ns-a', 'ns-b'].map((n) => serviceYaml(n, [backends[n]!.port], n)).join('');
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port, '      allowedRoutes: {namespaces: {from: All}}\n'),
      'services.yaml': services + crossNs,
      'routes.yaml': `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matches, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [match.test]
  rules:
    - matches: [{path: {type: Exact, value: /exact}}]
      backendRefs: [{name: exact, port: 80}]
    - matches: [{path: {type: PathPrefix, value: /prefix/}}]
      backendRefs: [{name: prefix, port: 80}]
    - matches: [{path: {type: RegularExpression, value: "/items/[0-9]+"}}]
      backendRefs: [{name: regex, port: 80}]
    - matches: [{path: {value: /h}, headers: [{name: X-Tenant, value: blue}]}]
      backendRefs: [{name: header, port: 80}]
    - matches: [{path: {value: /h}, headers: [{name: x-tenant, type: RegularExpression, value: "gr.*n"}]}]
      backendRefs: [{name: header-regex, port: 80}]
    - matches: [{path: {value: /q}, queryParams: [{name: v, value: "2"}]}]
      backendRefs: [{name: query, port: 80}]
    - matches: [{path: {value: /q}, method: DELETE}]
      backendRefs: [{name: method, port: 80}]
    - backendRefs: [{name: root, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: zz-older, namespace: default, creationTimestamp: "2025-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [tie.test]
  rules: [{backendRefs: [{name: older, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: aa-newer, namespace: default, creationTimestamp: "2026-06-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw}]
  hostnames: [tie.test]
  rules: [{backendRefs: [{name: newer, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: same, namespace: ns-b, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, namespace: default}]
  hostnames: [ns.test]
  rules: [{backendRefs: [{name: ns-b, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: same, namespace: ns-a, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: gw, namespace: default}]
  hostnames: [ns.test]
  rules: [{backendRefs: [{name: ns-a, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wildcard, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["*.example.test"]
  rules: [{backendRefs: [{name: wild, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: host, namespace: default}
spec:
  parentRefs: [{name: gw}]
  hostnames: [api.example.test]
  rules:
    - matches: [{path: {value: /only}}]
      backendRefs: [{name: host, port: 80}]
`,
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all(Object.values(backends).map((b) => b.close()));
  });

  const served = async (
    path: string,
    host: string,
    init: { method?: string; headers?: Record<string, string> } = {},
  ) => {
    const r = await send(`${gw.url}${path}`, { ...init, headers: { host, ...init.headers } });
    return r.status === 200 ? r.json().server : `status ${r.status}`;
  };

  it.each([
    ['/exact', 'exact'],
    ['/exact/', 'root'],
    ['/exactly', 'root'],
    ['/prefix', 'prefix'],
    ['/prefix/a/b', 'prefix'],
    ['/prefixes', 'root'],
    ['/items/42', 'regex'],
    ['/items/42/x', 'root'],
    ['/items/abc', 'root'],
  ])('path %s goes to %s', async (path, expected) => {
    expect(await served(path, 'match.test')).toBe(expected);
  });

  it('matches headers exactly (names case-insensitively) and by regular expression', async () => {
    expect(await served('/h', 'match.test', { headers: { 'x-tenant': 'blue' } })).toBe('header');
    expect(await served('/h', 'match.test', { headers: { 'X-TENANT': 'green' } })).toBe('header-regex');
    expect(await served('/h', 'match.test', { headers: { 'x-tenant': 'Blue' } })).toBe('root');
  });

  it('matches query parameters and methods', async () => {
    expect(await served('/q?v=2', 'match.test')).toBe('query');
    expect(await served('/q?v=3', 'match.test')).toBe('root');
    expect(await served('/q', 'match.test', { method: 'DELETE' })).toBe('method');
    // A method match outranks a query match on the same path.
    expect(await served('/q?v=2', 'match.test', { method: 'DELETE' })).toBe('method');
  });

  it('breaks ties by the oldest route, then by namespace/name', async () => {
    expect(await served('/', 'tie.test')).toBe('older');
    expect(await served('/', 'ns.test')).toBe('ns-a');
  });

  it('prefers an exact hostname and falls back to a wildcard one', async () => {
    expect(await served('/only', 'api.example.test')).toBe('host');
    expect(await served('/other', 'api.example.test')).toBe('wild');
    expect(await served('/', 'deep.sub.example.test')).toBe('wild');
    expect(await served('/', 'example.test')).toBe('status 404');
    expect(await served('/', 'API.Example.Test:1234')).toBe('wild');
  });

  it('answers 404 in the error catalog shape when nothing matches', async () => {
    const r = await send(`${gw.url}/`, { headers: { host: 'unknown.test' } });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text)).toEqual({
      error: {
        message: 'No route matches this request.',
        type: 'invalid_request_error',
        code: 'route_not_found',
      },
    });
  });

  it('answers a HEAD request that matches nothing with a bare 404 (no JSON content type on an empty body)', async () => {
    const r = await send(`${gw.url}/`, { method: 'HEAD', headers: { host: 'unknown.test' } });
    expect(r.status).toBe(404);
    expect(r.text).toBe('');
    expect(r.headers['content-type']).toBeUndefined();
  });
});
