import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type TestBackend } from './support/backends.ts';
import { gatewayYaml, serviceYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { startHydra, type TestHydra } from './support/hydra.ts';
import { freePort } from './support/ports.ts';

/** The policy's session cookie name: `sluice-session-` and a digest of `namespace/name`. */
const SESSION_COOKIE = `sluice-session-${createHash('sha256').update('default/login').digest('base64url').slice(0, 8)}`;

/** Debian's Chromium, started as the machine's notes say it runs here (no sandbox as root, no background traffic). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * OIDC login end to end: headless Chromium opens a protected page, is sent to a real ORY Hydra,
 * signs in on the login form, comes back through the gateway's callback and sees the page; the
 * session survives an access-token expiry by refresh, and logout ends it.
 */
describe('SecurityPolicy OIDC with ORY Hydra and Chromium', () => {
  let hydra: TestHydra;
  let backend: TestBackend;
  let gw: TestGateway;
  let browser: Browser;
  let profile: string;

  beforeAll(async () => {
    hydra = await startHydra({ accessTokenTtl: '3s' });
    backend = await startBackend('app');
    const port = await freePort();
    await hydra.createClient({
      id: 'sluice-web',
      secret: 'sluice-web-secret-0123456789',
      redirectUri: `http://127.0.0.1:${port}/oauth2/callback`,
    });
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('app', [backend.port])}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: app, port: 80}]}]
---
apiVersion: v1
kind: Secret
metadata: {name: oidc-client, namespace: default}
stringData: {client-secret: sluice-web-secret-0123456789}
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: login, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: app}]
  oidc:
    provider: {issuer: "${hydra.issuer}"}
    clientID: sluice-web
    clientSecret: {name: oidc-client}
    scopes: [offline_access, email]
    forwardAccessToken: true
    consumerClaim: email
    teamClaim: team
`,
    });
    profile = await mkdtemp(join(tmpdir(), 'sluice-chromium-'));
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      headless: true,
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await backend?.close();
    await hydra?.close();
    await rm(profile, { recursive: true, force: true });
  });

  /** What the backend saw for the page the browser shows (the echo server's JSON). */
  const seen = async (page: Page) =>
    JSON.parse((await page.textContent('body')) ?? '{}') as { path: string; headers: Record<string, string> };

  it('logs a browser in, keeps the session across an access-token expiry, and logs it out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gw.url}/orders/7?tab=items`);
    // Sent to Hydra, which sends the browser to the login form.
    await page.waitForSelector('#user');
    expect(page.url()).toContain('/login?login_challenge=');
    await page.fill('#user', 'ada');
    await Promise.all([page.waitForURL(`${gw.url}/orders/7?tab=items`), page.click('#sign-in')]);
    const first = await seen(page);
    expect(first.path).toBe('/orders/7');
    expect(first.headers.authorization).toMatch(/^Bearer ory_at_/);
    // The session cookie is the gateway's own: HttpOnly, and never passed to the backend.
    const cookies = await context.cookies(gw.url);
    const session = cookies.find((c) => c.name.startsWith('sluice-session-'));
    expect(session?.httpOnly).toBe(true);
    expect(first.headers.cookie ?? '').not.toContain('sluice-session-');

    // Access tokens live 3 s: once expired, the next page load is served on a refreshed token.
    let refreshed = first.headers.authorization;
    await expect
      .poll(
        async () => {
          await page.goto(`${gw.url}/orders/7`);
          refreshed = (await seen(page)).headers.authorization;
          return refreshed !== first.headers.authorization && page.url() === `${gw.url}/orders/7`;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(true);
    expect(refreshed).toMatch(/^Bearer ory_at_/);

    await page.goto(`${gw.url}/logout`);
    // Logged out: the next protected page asks Hydra again, which shows the login form.
    await page.waitForSelector('#user');
    expect((await context.cookies(gw.url)).some((c) => c.name.startsWith('sluice-session-'))).toBe(false);
    await context.close();
  }, 60_000);

  it('sends a browser without a session to the provider with PKCE, and refuses API calls without one', async () => {
    const res = await send(`${gw.url}/anything`);
    expect(res.status).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(`${location.origin}/`).toBe(new URL(hydra.issuer).origin + '/');
    expect(location.searchParams.get('code_challenge_method')).toBe('S256');
    expect(location.searchParams.get('scope')).toBe('openid offline_access email');
    expect((await send(`${gw.url}/api`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it.each([
    [
      'a forged session cookie',
      { cookie: `${SESSION_COOKIE}=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.BBBB.CCCC` },
      '/page',
      302,
    ],
    ['a session cookie of absurd size', { cookie: `${SESSION_COOKIE}=${'x'.repeat(9000)}` }, '/page', 302],
    ['a callback without a login in progress', {}, '/oauth2/callback?code=abc&state=def', 401],
    ['a callback the provider refused', {}, '/oauth2/callback?error=access_denied', 401],
  ])('answers %s without trusting it', async (_what, headers, path, status) => {
    const res = await send(`${gw.url}${path}`, { headers });
    expect(res.status).toBe(status);
  });
});
