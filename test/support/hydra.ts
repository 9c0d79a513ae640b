import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort } from './ports.ts';

/** A real ORY Hydra (built by test/cluster/build-hydra.sh) with a small login and consent app of ours. */
export interface TestHydra {
  /** The issuer exactly as Hydra's discovery document names it. */
  issuer: string;
  /** Registers an OAuth2 client for the authorization-code flow with refresh tokens. */
  createClient(client: { id: string; secret: string; redirectUri: string }): Promise<void>;
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts Hydra in dev mode (plain HTTP on loopback, in-memory store) with short access tokens, and a
 * login/consent app: the login page is an HTML form (user name, no password) that the browser test
 * fills in; consent is granted at once with the requested scopes and `email`/`team` in the ID token.
 */
export async function startHydra(options: { accessTokenTtl: string }): Promise<TestHydra> {
  const binary = execFileSync('bash', [join(import.meta.dirname, '..', 'cluster', 'build-hydra.sh')], {
    encoding: 'utf8',
  }).trim();
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const admin = `http://127.0.0.1:${adminPort}`;
  const app = await startLoginApp(admin);
  const appPort = (app.address() as { port: number }).port;
  let output = '';
  const child: ChildProcess = spawn(binary, ['serve', 'all', '--dev'], {
    env: {
      ...process.env,
      DSN: 'memory',
      URLS_SELF_ISSUER: `http://127.0.0.1:${publicPort}`,
      URLS_LOGIN: `http://127.0.0.1:${appPort}/login`,
      URLS_CONSENT: `http://127.0.0.1:${appPort}/consent`,
      SERVE_PUBLIC_PORT: String(publicPort),
      SERVE_PUBLIC_HOST: '127.0.0.1',
      SERVE_ADMIN_PORT: String(adminPort),
      SERVE_ADMIN_HOST: '127.0.0.1',
      SECRETS_SYSTEM: 'sluice-test-system-secret-0123456789',
      TTL_ACCESS_TOKEN: options.accessTokenTtl,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const discovery = `http://127.0.0.1:${publicPort}/.well-known/openid-configuration`;
  const deadline = Date.now() + 60_000;
  let issuer: string | undefined;
  while (!issuer) {
    if (child.exitCode !== null) throw new Error(`hydra exited: ${output.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`hydra did not start: ${output.slice(-2000)}`);
    issuer = await fetch(discovery)
      .then((r) => (r.ok ? (r.json() as Promise<{ issuer: string }>) : undefined))
      .then((d) => d?.issuer)
      .catch(() => undefined);
    if (!issuer) await new Promise((r) => setTimeout(r, 200));
  }
  return {
    issuer,
    createClient: async ({ id, secret, redirectUri }) => {
      const res = await fetch(`${admin}/admin/clients`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: id,
          client_secret: secret,
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          scope: 'openid offline_access email',
          redirect_uris: [redirectUri],
          token_endpoint_auth_method: 'client_secret_basic',
        }),
      });
      if (!res.ok) throw new Error(`hydra refused the client: ${res.status} ${await res.text()}`);
    },
    output: () => output,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      await new Promise<void>((r) => app.close(() => r()));
    },
  };
}

/** The login and consent pages Hydra sends browsers to, acting on its admin API. */
async function startLoginApp(admin: string): Promise<Server> {
  const accept = async (kind: 'login' | 'consent', challenge: string, body: object): Promise<string> => {
    const res = await fetch(
      `${admin}/admin/oauth2/auth/requests/${kind}/accept?${kind}_challenge=${encodeURIComponent(challenge)}`,
      { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    return ((await res.json()) as { redirect_to: string }).redirect_to;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        if (url.pathname === '/login' && req.method === 'GET') {
          const challenge = url.searchParams.get('login_challenge') ?? '';
          res.writeHead(200, { 'content-type': 'text/html' }).end(
            `<!doctype html><title>Sign in</title><form method="post" action="/login">
<input type="hidden" name="challenge" value="${challenge}"><input id="user" name="user">
<button id="sign-in" type="submit">Sign in</button></form>`,
          );
          return;
        }
        if (url.pathname === '/login' && req.method === 'POST') {
          const form = new URLSearchParams(Buffer.concat(chunks).toString());
          const to = await accept('login', form.get('challenge') ?? '', {
            subject: form.get('user') ?? '',
            remember: false,
          });
          res.writeHead(302, { location: to }).end();
          return;
        }
        if (url.pathname === '/consent') {
          const challenge = url.searchParams.get('consent_challenge') ?? '';
          const request = (await (
            await fetch(
              `${admin}/admin/oauth2/auth/requests/consent?consent_challenge=${encodeURIComponent(challenge)}`,
            )
          ).json()) as {
            subject: string;
            requested_scope: string[];
            requested_access_token_audience: string[];
          };
          const to = await accept('consent', challenge, {
            grant_scope: request.requested_scope,
            grant_access_token_audience: request.requested_access_token_audience,
            remember: false,
            session: { id_token: { email: `${request.subject}@example.com`, team: 'web' } },
          });
          res.writeHead(302, { location: to }).end();
          return;
        }
        res.writeHead(404).end();
      } catch (err) {
        res.writeHead(500).end(String(err));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}
