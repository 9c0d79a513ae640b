import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from '../support/backends.ts';
import {
  gatewayYaml,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { freePort } from '../support/ports.ts';

/** Cases per run: a few seconds in `npm test`; `npm run test:fuzz` sets a long run. */
const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 150);
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** Characters a client can put in a header value (visible ASCII, space, tab, and obs-text bytes). */
const headerText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\t', 'é', 'ÿ'),
  ),
  maxLength: 300,
});
const b64url = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
/** Strings shaped like JWTs: three parts, the first two often JSON (with hostile alg/kid/crit/claims). */
const jwtLike = fc
  .tuple(
    fc.oneof(
      fc.record({
        alg: fc.constantFrom('ES256', 'RS256', 'HS256', 'none', 'EdDSA', ''),
        kid: fc.oneof(fc.constant('k'), fc.string()),
        crit: fc.option(fc.array(fc.string(), { maxLength: 3 }), { nil: undefined }),
      }),
      fc.jsonValue({ maxDepth: 3 }),
      fc.string(),
    ),
    fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.string()),
    fc.string({ maxLength: 100 }),
  )
  .map(([h, p, s]) => `${b64url(h)}.${b64url(p)}.${b64url(s)}`);
const basicLike = fc
  .oneof(
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('latin1')),
  )
  .map((s) => `Basic ${Buffer.from(s, 'latin1').toString('base64')}`);

/**
 * Hostile credentials and CORS headers against every SecurityPolicy mechanism: whatever a client sends
 * in Authorization, x-api-key, cookies, query strings, Origin and preflight headers, the answer is a
 * well-formed 200/401/403 (never a 5xx, never silence) and the gateway keeps serving.
 */
describe('SecurityPolicy under hostile credentials', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  const agent = new Agent({ connections: 8 });

  beforeAll(async () => {
    backend = await startBackend('echo');
    const port = await freePort();
    const jwks = JSON.stringify({
      keys: [{ ...key.publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'ES256' }],
    });
    const route = (name: string) => prefixRouteYaml(name, `/${name}`, 'echo');
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('echo', [backend.port])}${route('key')}${route('basic')}${route('jwt')}${route('cors')}---
apiVersion: v1
kind: Secret
metadata: {name: keys, namespace: default}
stringData: {c: key-c-0123456789}
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: default}
stringData: {.htpasswd: "u:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="}
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: key, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: key}]
  apiKeyAuth:
    credentialRefs: [{name: keys}]
    extractFrom: [{headers: [authorization, x-api-key]}, {params: [k]}, {cookies: [k]}]
    sanitize: true
  authorization:
    defaultAction: Allow
    rules: [{action: Deny, principal: {headers: [{name: x-block, values: ["1"]}]}}]
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: basic, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: basic}]
  basicAuth: {users: {name: users}}
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: jwt, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: jwt}]
  jwt:
    providers:
      - name: p
        localJWKS: {inline: ${JSON.stringify(jwks)}}
        claimToHeaders: [{header: x-claim, claim: a.b.c}]
        extractFrom: {headers: [{name: authorization, valuePrefix: "Bearer "}], cookies: [t], params: [t]}
  authorization:
    defaultAction: Deny
    rules: [{action: Allow, principal: {jwt: {provider: p, claims: [{name: role, values: [x]}], scopes: [s]}}}]
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: cors, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cors}]
  cors: {allowOrigins: ["https://*.example.com", "https://a.test"], allowMethods: [GET], allowHeaders: ["*"], allowCredentials: true}
`,
    });
  });
  afterAll(async () => {
    await agent.close();
    await gw.close();
    await backend.close();
  });

  const attempt = fc.record({
    path: fc.constantFrom('/key', '/basic', '/jwt', '/cors'),
    query: fc.oneof(
      fc.constant(''),
      headerText.map((q) => `?k=${encodeURIComponent(q)}&t=${encodeURIComponent(q)}`),
    ),
    method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'DELETE'),
    authorization: fc.option(
      fc.oneof(
        headerText,
        jwtLike.map((t) => `Bearer ${t}`),
        basicLike,
      ),
      { nil: undefined },
    ),
    apiKey: fc.option(headerText, { nil: undefined }),
    cookie: fc.option(
      fc.oneof(
        headerText,
        jwtLike.map((t) => `t=${t}; k=${t}`),
      ),
      { nil: undefined },
    ),
    origin: fc.option(headerText, { nil: undefined }),
    preflightMethod: fc.option(headerText, { nil: undefined }),
    preflightHeaders: fc.option(headerText, { nil: undefined }),
    block: fc.boolean(),
  });

  it(`answers ${RUNS * 4} hostile requests with 200, 401 or 403 and keeps serving`, async () => {
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const headers: Record<string, string> = {};
        if (a.authorization !== undefined) headers.authorization = a.authorization;
        if (a.apiKey !== undefined) headers['x-api-key'] = a.apiKey;
        if (a.cookie !== undefined) headers.cookie = a.cookie;
        if (a.origin !== undefined) headers.origin = a.origin;
        if (a.preflightMethod !== undefined) headers['access-control-request-method'] = a.preflightMethod;
        if (a.preflightHeaders !== undefined) headers['access-control-request-headers'] = a.preflightHeaders;
        if (a.block) headers['x-block'] = '1';
        const res = await request(`${gw.url}${a.path}${a.query}`, {
          method: a.method as 'GET',
          headers,
          dispatcher: agent,
        });
        const text = await res.body.text();
        expect([200, 400, 401, 403], `${res.statusCode} ${text}`).toContain(res.statusCode);
        if (res.statusCode === 401) expect(res.headers['www-authenticate']).toBeDefined();
        if (res.statusCode !== 200 || a.path === '/cors') return;
        // A request that got through carried no credential of the route onwards.
        const seen = JSON.parse(text) as { headers: Record<string, string>; query: string };
        if (a.path === '/key') {
          expect(seen.headers['x-api-key'] ?? '').not.toContain('key-c-0123456789');
          expect(seen.query).not.toContain('key-c-0123456789');
        }
        if (a.path === '/basic') expect(seen.headers.authorization).toBeUndefined();
      }),
      { numRuns: RUNS * 4 },
    );
    const after = await request(`${gw.url}/key`, {
      headers: { 'x-api-key': 'key-c-0123456789' },
      dispatcher: agent,
    });
    await after.body.text();
    expect(after.statusCode).toBe(200);
  }, 120_000);
});
