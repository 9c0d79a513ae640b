import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { translateSource } from '../operator/src/standalone/snapshot-to-config.ts';
import { startBackend, type TestBackend } from './support/backends.ts';
import {
  CONTROLLER,
  gatewayYaml,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';
import { rawExchange, statuses } from './support/raw-socket.ts';
import { TestCa } from './support/tls.ts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rotated = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
const now = () => Math.floor(Date.now() / 1000);
const ISSUER = 'https://idp.test';

function jwt(claims: Record<string, unknown>, key: KeyObject, kid: string, alg = 'RS256'): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64({ alg, typ: 'JWT', kid })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: 'shop',
  sub: 'frank',
  exp: now() + 600,
  ...extra,
});

/** An HTTP route `name` for PathPrefix `path` to Service echo; `ruleName` names its one rule. */
const route = (name: string, path: string, ruleName?: string) =>
  prefixRouteYaml(name, path, 'echo', ruleName);

function policy(name: string, body: string): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: ${name}, namespace: default}
spec:
${body}`;
}

/**
 * SecurityPolicy through the real proxy on a dual-stack socket: client addresses across 127.0.0.0/8
 * and ::1, API keys, Basic, JWT with keys fetched over HTTPS from a local issuer, CORS, external
 * authorization, and one identity shared with the rest of the gateway.
 */
describe('SecurityPolicy', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  let issuer: HttpsServer;
  let authorizer: Server;
  let keys = [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }];
  let jwksFetches = 0;
  const authorizerSaw: { path: string; headers: Record<string, unknown> }[] = [];
  let authorizerDelayMs = 0;
  const defaultCAs = getCACertificates('default');

  beforeAll(async () => {
    backend = await startBackend('echo');
    // The issuer serves its keys over HTTPS with a certificate from a throwaway CA the process trusts.
    const ca = new TestCa();
    const leaf = ca.issue('issuer', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
    setDefaultCACertificates([...defaultCAs, ca.cert]);
    issuer = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => issuer.listen(0, '127.0.0.1', r));
    const issuerPort = (issuer.address() as { port: number }).port;
    authorizer = createServer((req, res) => {
      authorizerSaw.push({ path: req.url ?? '', headers: req.headers });
      const answer = () => {
        if (req.headers['x-token'] === 'ok')
          res.writeHead(200, { 'x-auth-user': 'olga', 'x-internal': 'never-upstream' }).end();
        else res.writeHead(403, { 'content-type': 'text/plain', 'x-reason': 'no token' }).end('nope');
      };
      if (authorizerDelayMs > 0) setTimeout(answer, authorizerDelayMs);
      else answer();
    });
    await new Promise<void>((r) => authorizer.listen(0, '127.0.0.1', r));
    const authorizerPort = (authorizer.address() as { port: number }).port;

    const htpasswd = [
      `ada:${bcrypt.hashSync('lovelace', 4)}`,
      `sha:{SHA}${createHash('sha1').update('sha-pass-9f8e').digest('base64')}`,
      'old:$apr1$abc$defghijklmnopqrstuvwx',
      'broken line',
    ].join('\n');
    const port = await freePort();
    gw = await startGateway(
      port,
      {
        'gateway.yaml': gatewayYaml(port),
        'objects.yaml': `${serviceYaml('echo', [backend.port])}${serviceYaml('authz', [authorizerPort])}${route('ip-route', '/ip')}${route('key-route', '/key')}${route('basic-route', '/basic')}${route('jwt-route', '/jwt')}${route('jwt-admin', '/admin', 'admin')}${route('cors-route', '/cors')}${route('ext-route', '/ext')}${route('ws-route', '/ws')}${route('broken-route', '/broken')}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cors-filter, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /filtered}}]
      filters: [{type: CORS, cors: {allowOrigins: ["https://*.example.org"], allowMethods: ["*"], allowHeaders: ["*"]}}]
      backendRefs: [{name: echo, port: 80}]
---
apiVersion: v1
kind: Secret
metadata: {name: api-keys, namespace: default, labels: {sluice.dev/team: payments}}
stringData: {alice: key-alice-0123456789, bob: key-bob-0123456789}
---
apiVersion: v1
kind: Secret
metadata: {name: users, namespace: default}
stringData:
  .htpasswd: ${JSON.stringify(htpasswd)}
${policy(
  'ip-allow',
  `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ip-route}]
  authorization:
    defaultAction: Deny
    rules:
      - action: Allow
        principal: {clientCIDRs: [127.0.1.0/24, "::1/128"]}
      - action: Deny
        principal: {clientCIDRs: [127.0.0.0/8]}
`,
)}${policy(
  'api-keys',
  `  targetRefs:
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: key-route}
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: ws-route}
  apiKeyAuth:
    credentialRefs: [{name: api-keys}]
    extractFrom: [{headers: [x-api-key]}, {params: [api_key]}, {cookies: [session-key]}]
    forwardClientIDHeader: x-client-id
    sanitize: true
`,
)}${policy(
  'basic',
  `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: basic-route}]
  basicAuth: {users: {name: users}, forwardUsernameHeader: x-user}
`,
)}${policy(
  'jwt',
  `  targetRefs:
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: jwt-route}
    - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: jwt-admin}
  jwt:
    providers:
      - name: idp
        issuer: "${ISSUER}"
        audiences: [shop]
        remoteJWKS: {uri: "https://localhost:${issuerPort}/jwks", cacheDuration: 1s}
        claimToHeaders: [{header: x-sub, claim: sub}, {header: x-role, claim: realm.role}]
`,
)}${policy(
  'admins-only',
  `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: jwt-admin, sectionName: admin}]
  authorization:
    defaultAction: Deny
    rules:
      - action: Allow
        principal: {jwt: {provider: idp, claims: [{name: realm.role, values: [admin]}], scopes: [shop.write]}}
  jwt:
    providers:
      - name: idp
        issuer: "${ISSUER}"
        audiences: [shop]
        remoteJWKS: {uri: "https://localhost:${issuerPort}/jwks", cacheDuration: 1s}
`,
)}${policy(
  'broken',
  `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: broken-route}]
  basicAuth: {users: {name: no-such-secret}}
`,
)}${policy(
  'cors',
  `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: cors-route}]
  cors:
    allowOrigins: ["https://app.example.com", "https://*.shop.example"]
    allowMethods: [GET, PUT]
    allowHeaders: [x-custom]
    exposeHeaders: [x-echo-server]
    maxAge: 10m
    allowCredentials: true
`,
)}${policy(
  'ext',
  `  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ext-route}]
  extAuth:
    http: {backendRefs: [{name: authz, port: 80}], path: /check, headersToBackend: [x-auth-user]}
    headersToExtAuth: [x-token]
    timeout: 300ms
`,
)}`,
      },
      { bindAddress: '::', captureLogs: true },
    );
  });
  afterAll(async () => {
    setDefaultCACertificates(defaultCAs);
    await gw.close();
    await backend.close();
    issuer.close();
    authorizer.close();
  });

  const url = (path: string, host = '127.0.0.1') =>
    `http://${host.includes(':') ? `[${host}]` : host}:${gw.port}${path}`;

  describe('client addresses', () => {
    it.each([
      ['127.0.1.7', 200],
      ['127.0.1.250', 200],
      ['127.0.0.2', 403],
      ['127.0.0.1', 403],
    ])('from %s answers %i', async (from, status) => {
      const res = await send(url('/ip'), { from });
      expect(res.status).toBe(status);
      if (status === 403) expect(res.json<{ error: { code: string } }>().error.code).toBe('forbidden');
    });

    it('matches IPv6 clients on their own CIDRs', async () => {
      expect((await send(url('/ip', '::1'), { from: '::1' })).status).toBe(200);
    });

    it('judges the socket peer, never a client-sent X-Forwarded-For', async () => {
      const res = await send(url('/ip'), { from: '127.0.0.3', headers: { 'x-forwarded-for': '127.0.1.7' } });
      expect(res.status).toBe(403);
    });
  });

  describe('API keys', () => {
    it('refuses a request without a key with 401 and a challenge', async () => {
      const res = await send(url('/key'));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('ApiKey realm="sluice"');
      expect(res.json<{ error: { code: string } }>().error.code).toBe('missing_credentials');
    });

    it.each([['wrong'], ['key-alice-0123456789 '.repeat(300)], ['key-alice-012345678']])(
      'refuses a bad key (%#)',
      async (key) => {
        const res = await send(url('/key'), { headers: { 'x-api-key': key } });
        expect(res.status).toBe(401);
        expect(res.json<{ error: { code: string } }>().error.code).toBe('invalid_api_key');
      },
    );

    it('admits a good key from a header, strips it and names the client upstream (a spoofed client id is replaced)', async () => {
      const res = await send(url('/key'), {
        headers: { 'x-api-key': 'key-alice-0123456789', 'x-client-id': 'mallory' },
      });
      expect(res.status).toBe(200);
      const seen = res.json().headers;
      expect(seen['x-client-id']).toBe('alice');
      expect(seen['x-api-key']).toBeUndefined();
    });

    it('finds keys in query parameters and cookies, and takes them out of what goes upstream', async () => {
      const byQuery = await send(url('/key?api_key=key-bob-0123456789&page=2'));
      expect(byQuery.status).toBe(200);
      expect(byQuery.json().query).toBe('?page=2');
      const byCookie = await send(url('/key'), {
        headers: { cookie: 'theme=dark; session-key=key-bob-0123456789' },
      });
      expect(byCookie.status).toBe(200);
      expect(byCookie.json().headers.cookie).toBe('theme=dark');
    });

    it('guards WebSocket upgrades: no key, no tunnel', async () => {
      const head = (extra: string) =>
        `GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${extra}\r\n`;
      const refused = await rawExchange(gw.port, [head('')], { waitMs: 2000 });
      expect(statuses(refused.received)).toEqual([401]);
      const admitted = await rawExchange(gw.port, [head('x-api-key: key-alice-0123456789\r\n'), 'ping'], {
        waitMs: 500,
      });
      expect(statuses(admitted.received)).toEqual([101]);
      expect(admitted.received).toContain('ping');
    });

    it('never puts a key in metrics', async () => {
      const text = (await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
      expect(text).not.toContain('key-alice');
      expect(text).toContain('sluice_security_decisions_total');
    });
  });

  describe('Basic', () => {
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });

    it('admits bcrypt and {SHA} users, forwards the user name and never the password', async () => {
      for (const [user, password] of [
        ['ada', 'lovelace'],
        ['sha', 'sha-pass-9f8e'],
        ['ada', 'lovelace'],
      ] as const) {
        const res = await send(url('/basic'), { headers: basic(user, password) });
        expect(res.status).toBe(200);
        expect(res.json().headers['x-user']).toBe(user);
        expect(res.json().headers.authorization).toBeUndefined();
      }
    });

    it.each([
      ['a wrong password', basic('ada', 'babbage')],
      ['an unknown user', basic('eve', 'lovelace')],
      ['a user whose htpasswd line uses a refused scheme', basic('old', 'x')],
      ['malformed credentials', { authorization: 'Basic !!!not-base64' }],
      ['no colon', { authorization: `Basic ${Buffer.from('ada').toString('base64')}` }],
    ])('refuses %s with 401 and a Basic challenge', async (_what, headers) => {
      const res = await send(url('/basic'), { headers });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="sluice", charset="UTF-8"');
    });

    it('tells the operator which htpasswd lines were skipped, without their hashes', async () => {
      const { result } = await translateSource(gw.dir, CONTROLLER);
      const status = result.statuses.find((s) => s.kind === 'SecurityPolicy' && s.name === 'basic');
      const text = JSON.stringify(status);
      expect(text).toContain('line 3 (old): MD5-crypt hashes are not accepted');
      expect(text).toContain('line 4: not user:hash');
      expect(text).not.toContain('$2');
    });
  });

  describe('JWT', () => {
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    it('admits a token signed by the issuer, copies claims into headers and drops a client-sent copy', async () => {
      const token = jwt(claims({ realm: { role: 'viewer' } }), rsa.privateKey, 'k1');
      const res = await send(url('/jwt'), { headers: { ...bearer(token), 'x-role': 'admin' } });
      expect(res.status).toBe(200);
      const seen = res.json().headers;
      expect(seen['x-sub']).toBe('frank');
      expect(seen['x-role']).toBe('viewer');
      expect(seen.authorization).toBeUndefined();
    });

    it.each([
      ['expired', () => jwt(claims({ exp: now() - 3600 }), rsa.privateKey, 'k1'), 'expired'],
      ['wrong audience', () => jwt(claims({ aud: 'other' }), rsa.privateKey, 'k1'), 'wrong audience'],
      ['wrong issuer', () => jwt(claims({ iss: 'https://evil.test' }), rsa.privateKey, 'k1'), 'wrong issuer'],
      ['signed by a stranger', () => jwt(claims(), stranger.privateKey, 'k1'), 'signature does not verify'],
      ['unknown kid', () => jwt(claims(), stranger.privateKey, 'nobody'), 'signature does not verify'],
      [
        'HS256 with the public key as secret',
        () => {
          const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
          return `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(claims())}.${Buffer.from('x').toString('base64url')}`;
        },
        'algorithm not accepted',
      ],
      [
        'alg none',
        () =>
          `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`,
        'algorithm not accepted',
      ],
      ['garbage', () => 'eyJ.not.a-token', 'malformed JWT'],
    ])('refuses a token that is %s with 401 and the reason', async (_what, make, reason) => {
      const res = await send(url('/jwt'), { headers: bearer(make()) });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(res.json<{ error: { message: string } }>().error.message).toContain(reason);
    });

    it('refuses a missing token and an oversized one', async () => {
      const missing = await send(url('/jwt'));
      expect(missing.status).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="sluice"');
      const large = await send(url('/jwt'), { headers: bearer(`eyJ${'a'.repeat(10_000)}.b.c`) });
      expect(large.status).toBe(401);
      expect(large.json<{ error: { message: string } }>().error.message).toContain('token too large');
      // Beyond the header limit the server refuses the request before any policy runs.
      const huge = await send(url('/jwt'), { headers: bearer(`eyJ${'a'.repeat(20_000)}.b.c`) });
      expect(huge.status).toBe(431);
    });

    it('authorizes a route rule on claims and scopes (the rule-level policy wins over the route-level one)', async () => {
      const admin = jwt(
        claims({ realm: { role: 'admin' }, scope: 'shop.read shop.write' }),
        rsa.privateKey,
        'k1',
      );
      const viewer = jwt(
        claims({ realm: { role: 'viewer' }, scope: 'shop.read shop.write' }),
        rsa.privateKey,
        'k1',
      );
      const noScope = jwt(claims({ realm: { role: 'admin' }, scope: 'shop.read' }), rsa.privateKey, 'k1');
      expect((await send(url('/admin'), { headers: bearer(admin) })).status).toBe(200);
      expect((await send(url('/admin'), { headers: bearer(viewer) })).status).toBe(403);
      expect((await send(url('/admin'), { headers: bearer(noScope) })).status).toBe(403);
    });

    it('follows a key rotation at the issuer without a restart', async () => {
      const fetchesBefore = jwksFetches;
      keys = [{ ...rotated.publicKey.export({ format: 'jwk' }), kid: 'k2', use: 'sig', alg: 'RS256' }];
      const token = jwt(claims(), rotated.privateKey, 'k2');
      const statusWith = async (t: string) => (await send(url('/jwt'), { headers: bearer(t) })).status;
      await expect.poll(() => statusWith(token), { timeout: 10_000, interval: 250 }).toBe(200);
      expect(jwksFetches).toBeGreaterThan(fetchesBefore);
      // The old key is gone from the set: its tokens stop verifying once the cache has turned over.
      const old = jwt(claims(), rsa.privateKey, 'k1');
      await expect.poll(() => statusWith(old), { timeout: 10_000, interval: 250 }).toBe(401);
      keys = [
        { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' },
        { ...rotated.publicKey.export({ format: 'jwk' }), kid: 'k2', use: 'sig', alg: 'RS256' },
      ];
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string, method = 'PUT', headers = 'x-custom') =>
      send(url('/cors'), {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': headers,
        },
      });

    it('answers an allowed preflight at the gateway', async () => {
      const before = backend.seen.length;
      const res = await preflight('https://app.example.com');
      expect(res.status).toBe(200);
      expect(res.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example.com',
        'access-control-allow-methods': 'GET, PUT',
        'access-control-allow-headers': 'x-custom',
        'access-control-max-age': '600',
        'access-control-allow-credentials': 'true',
        // Announced on the preflight too, as Envoy does and the Gateway API conformance suite expects.
        'access-control-expose-headers': 'x-echo-server',
      });
      expect(backend.seen.length).toBe(before);
    });

    it.each([
      ['an origin not listed', 'https://evil.example', 'PUT', 'x-custom'],
      ['a wildcard that would need a dot-free match', 'https://evil.com/.shop.example', 'PUT', 'x-custom'],
      ['a method not allowed', 'https://app.example.com', 'DELETE', 'x-custom'],
      ['a header not allowed', 'https://app.example.com', 'PUT', 'x-other'],
    ])('gives %s no CORS headers', async (_what, origin, method, headers) => {
      const res = await preflight(origin, method, headers);
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('adds CORS headers to ordinary responses for allowed origins (wildcard subdomains too)', async () => {
      const res = await send(url('/cors'), { headers: { origin: 'https://a.b.shop.example' } });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://a.b.shop.example');
      expect(res.headers['access-control-expose-headers']).toBe('x-echo-server');
      const other = await send(url('/cors'), { headers: { origin: 'https://shop.example' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  it('implements the Gateway API HTTPRoute CORS filter on the same mechanism (wildcards, default max age)', async () => {
    const res = await send(url('/filtered'), {
      method: 'OPTIONS',
      headers: {
        origin: 'https://a.b.example.org',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'x-one, x-two',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': 'https://a.b.example.org',
      'access-control-allow-methods': '*',
      'access-control-allow-headers': '*',
      'access-control-max-age': '5',
    });
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const other = await send(url('/filtered'), { headers: { origin: 'https://example.org.evil.com' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  describe('external authorization', () => {
    it('allows on 2xx and copies only the chosen answer headers upstream', async () => {
      const res = await send(url('/ext/orders?id=7'), { headers: { 'x-token': 'ok', 'x-private': 'p' } });
      expect(res.status).toBe(200);
      expect(res.json().headers['x-auth-user']).toBe('olga');
      expect(res.json().headers['x-internal']).toBeUndefined();
      const check = authorizerSaw.at(-1)!;
      expect(check.path).toBe('/check/ext/orders?id=7');
      expect(check.headers['x-token']).toBe('ok');
      expect(check.headers['x-private']).toBeUndefined();
    });

    it("relays the authorizer's denial as it answered", async () => {
      const res = await send(url('/ext/orders'));
      expect(res.status).toBe(403);
      expect(res.text).toBe('nope');
      expect(res.headers['x-reason']).toBe('no token');
    });

    it('fails closed with 503 when the authorizer is too slow', async () => {
      authorizerDelayMs = 2000;
      try {
        const res = await send(url('/ext/orders'), { headers: { 'x-token': 'ok' } });
        expect(res.status).toBe(503);
        expect(res.json<{ error: { code: string; message: string } }>().error).toMatchObject({
          code: 'authorizer_unavailable',
          message: expect.stringContaining('timed out'),
        });
      } finally {
        authorizerDelayMs = 0;
      }
    });
  });

  it('fails closed on a policy it cannot apply, without holding up the rest of the Gateway', async () => {
    const res = await send(url('/broken'), { headers: { authorization: 'Basic YTpi' } });
    expect(res.status).toBe(500);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('security_policy_invalid');
    // Every other route of the same config is served (this whole suite runs on it).
    expect((await send(url('/ip'), { from: '127.0.1.9' })).status).toBe(200);
  });

  it('never logs a credential: keys, passwords, tokens (logs kept at debug level for the whole suite)', () => {
    const logs = gw.logs();
    expect(logs).toContain('config applied');
    for (const secret of ['key-alice-0123456789', 'key-bob-0123456789', 'lovelace', 'sha-pass-9f8e', 'eyJ'])
      expect(logs, secret).not.toContain(secret);
  });

  it('counts decisions per policy and stage', async () => {
    const samples = await scrapeMetrics(gw.adminPort);
    const count = (where: Record<string, string>) => sumOf(samples, 'sluice_security_decisions_total', where);
    expect(count({ policy: 'default/ip-allow', stage: 'client_ip', result: 'deny' })).toBeGreaterThan(0);
    expect(
      count({ policy: 'default/api-keys', stage: 'api_key', result: 'unauthenticated' }),
    ).toBeGreaterThan(0);
    expect(count({ policy: 'default/jwt', stage: 'jwt', result: 'allow' })).toBeGreaterThan(0);
    expect(count({ policy: 'default/admins-only', stage: 'authorization', result: 'deny' })).toBeGreaterThan(
      0,
    );
    expect(count({ policy: 'default/ext', stage: 'ext_auth', result: 'error' })).toBeGreaterThan(0);
  });
});
