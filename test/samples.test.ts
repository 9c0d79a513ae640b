import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSource } from '../operator/src/provider/file/load-directory.ts';
import { statusProblems } from '../operator/src/status/status-problems.ts';
import { translate } from '../operator/src/translator/translate.ts';
import { startBackend, type TestBackend } from './support/backends.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { CONTROLLER, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';

const SAMPLES = join(import.meta.dirname, '..', 'samples');

/** Every sample directory, as users run them: standalone, with the local ports swapped for free ones. */
describe('samples/', () => {
  let fake: RunningFake;
  let v1: TestBackend;
  let v2: TestBackend;
  beforeAll(async () => {
    fake = await startFake({ name: 'fake' });
    v1 = await startBackend('v1');
    v2 = await startBackend('v2');
  });
  afterAll(async () => {
    await fake.close();
    await v1.close();
    await v2.close();
  });

  it('every sample directory validates and translates with every object accepted', async () => {
    const dirs = readdirSync(SAMPLES, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(dirs.sort()).toEqual([
      'budgets',
      'cross-namespace',
      'failover',
      'http-routes',
      'kubernetes',
      'model-routing',
      'observability',
      'prompt-guard',
      'quickstart',
      'security',
      'tls-and-streams',
      'traffic',
      'weighted-split',
    ]);
    for (const dir of dirs) {
      const { resources, errors } = await loadSource(join(SAMPLES, dir));
      // samples/kubernetes ships no Secret (it must never overwrite the user's key): add the one the
      // README has the user create first.
      if (dir === 'kubernetes')
        resources.secrets.push({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'openai', namespace: 'sluice-demo' },
          stringData: { 'api-key': 'sk-user' },
        } as never);
      expect(errors, dir).toEqual([]);
      const { statuses } = translate(resources, { controllerName: CONTROLLER, now: Date.now() });
      // A sample ships no Secret with a key in it (the user creates their own), so a reference to
      // one is the only problem a sample may show.
      const rejected = statusProblems(statuses)
        .flatMap((o) => o.problems.map((p) => `${o.object}: ${p.type} ${p.reason}`))
        .filter(
          (p) => !(dir === 'kubernetes' && p === 'AIBackend sluice-demo/chat: ResolvedRefs SecretNotFound'),
        );
      expect(rejected, dir).toEqual([]);
    }
  });

  /** Starts one sample with 8080 → a free port, 8090 → the fake provider, 3000/3001 → the echo backends. */
  async function run(dir: string): Promise<TestGateway> {
    const port = await freePort();
    const files: Record<string, string> = {};
    for (const f of readdirSync(join(SAMPLES, dir)))
      files[f] = readFileSync(join(SAMPLES, dir, f), 'utf8')
        .replaceAll('port: 8080', `port: ${port}`)
        .replaceAll('127.0.0.1:8090', `127.0.0.1:${fake.port}`)
        .replaceAll('port: 3000', `port: ${v1.port}`)
        .replaceAll('port: 3001', `port: ${v2.port}`);
    return startGateway(port, files);
  }
  const chat = async (gw: TestGateway, model = 'gpt-4o-mini') =>
    new OpenAI({ apiKey: 'k', baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions
      .create({ model, messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();

  it('failover: the unreachable primary is skipped and the fallback answers', async () => {
    const gw = await run('failover');
    try {
      const { data, response } = await chat(gw);
      expect(data.choices[0]?.message.content).toContain('fake');
      expect(response.headers.get('x-sluice-ai-target')).toBe('fallback');
      expect(response.headers.get('x-sluice-attempts')).toBe('2');
    } finally {
      await gw.close();
    }
  });

  it('model-routing: each model goes to its AIBackend (Gemini and Bedrock among them), with the provider model mapped; others get 404', async () => {
    const gw = await run('model-routing');
    try {
      expect((await chat(gw, 'gpt-4o-mini')).response.headers.get('x-sluice-ai-backend')).toContain('fast');
      const smart = await chat(gw, 'claude-sonnet');
      expect(smart.response.headers.get('x-sluice-ai-backend')).toContain('smart');
      expect(fake.requests.at(-1)?.body?.model).toBe('gpt-4o');
      const gemini = await chat(gw, 'gemini-2.5-flash');
      expect(gemini.data.choices[0]?.message.content).toContain('fake');
      expect(fake.requests.at(-1)?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
      const bedrock = await chat(gw, 'claude-haiku');
      expect(bedrock.data.choices[0]?.message.content).toContain('fake');
      expect(fake.requests.at(-1)?.path).toBe('/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse');
      expect(fake.requests.at(-1)?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE00\/\d{8}\/us-east-1\/bedrock\/aws4_request/,
      );
      await expect(chat(gw, 'unknown-model')).rejects.toMatchObject({ status: 404 });
    } finally {
      await gw.close();
    }
  });

  it('weighted-split: about 90/10 over 400 requests', async () => {
    const gw = await run('weighted-split');
    try {
      const counts: Record<string, number> = {};
      for (let i = 0; i < 400; i++) {
        const backend = (await chat(gw)).response.headers.get('x-sluice-ai-backend') ?? '';
        counts[backend] = (counts[backend] ?? 0) + 1;
      }
      const canary = Object.entries(counts).find(([k]) => k.includes('canary'))?.[1] ?? 0;
      expect(canary).toBeGreaterThan(20);
      expect(canary).toBeLessThan(65);
    } finally {
      await gw.close();
    }
  }, 60_000);

  it('cross-namespace: allowed by the ReferenceGrant; without it, refused with RefNotPermitted', async () => {
    const gw = await run('cross-namespace');
    try {
      expect((await chat(gw)).data.choices[0]?.message.content).toContain('fake');
      const text = readFileSync(join(SAMPLES, 'cross-namespace', 'cross-namespace.yaml'), 'utf8');
      const withoutGrant = text
        .split('\n---\n')
        .filter((doc) => !doc.includes('kind: ReferenceGrant'))
        .join('\n---\n')
        .replaceAll('port: 8080', `port: ${gw.port}`)
        .replaceAll('127.0.0.1:8090', `127.0.0.1:${fake.port}`);
      await gw.write('cross-namespace.yaml', withoutGrant);
      await expect(chat(gw)).rejects.toMatchObject({ status: 500 });
      const { resources } = await loadSource(gw.dir);
      const route = translate(resources, { controllerName: CONTROLLER, now: Date.now() }).statuses.find(
        (s) => s.kind === 'HTTPRoute',
      );
      expect(JSON.stringify(route)).toContain('RefNotPermitted');
    } finally {
      await gw.close();
    }
  });

  it('traffic: a per-caller rate limit refuses the fourth request a minute; retries, the breaker, health checks and cookie affinity are in place', async () => {
    const gw = await run('traffic');
    try {
      const alice = { headers: { 'x-user': 'alice' } };
      for (let i = 0; i < 3; i++) expect((await send(`${gw.url}/api`, alice)).status).toBe(200);
      const refused = await send(`${gw.url}/api`, alice);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect((await send(`${gw.url}/api`, { headers: { 'x-user': 'bob' } })).status).toBe(200);
      expect((await send(`${gw.url}/orders`)).status).toBe(200);
      expect((await send(`${gw.url}/reports`)).status).toBe(200);
      // balancing.yaml: the cart sets its affinity cookie; search is served.
      const cart = await send(`${gw.url}/cart`);
      expect(cart.status).toBe(200);
      expect(String(cart.headers['set-cookie'])).toMatch(
        /^shop-affinity=[\w-]+; Max-Age=3600; Path=\/; SameSite=Lax; HttpOnly$/,
      );
      expect((await send(`${gw.url}/search`)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });

  it('security: the IP allow-list as Envoy Gateway writes it, API keys, Basic on top for one rule, CORS preflights', async () => {
    const gw = await run('security');
    try {
      const www = { host: 'www.example.com' };
      const api = { host: 'api.example.com' };
      // 127.0.0.1 is not in 10.0.1.0/24.
      expect((await send(`${gw.url}/`, { headers: www })).status).toBe(403);
      expect((await send(`${gw.url}/keys`, { headers: api })).status).toBe(401);
      const keyed = await send(`${gw.url}/keys`, { headers: { ...api, 'x-api-key': 'demo-key-for-alice' } });
      expect(keyed.status).toBe(200);
      expect(keyed.json().headers['x-client-id']).toBe('alice');
      const basic = `Basic ${Buffer.from('demo:demo-password').toString('base64')}`;
      expect(
        (await send(`${gw.url}/basic`, { headers: { ...api, 'x-api-key': 'demo-key-for-bob' } })).status,
      ).toBe(401);
      const both = await send(`${gw.url}/basic`, {
        headers: { ...api, 'x-api-key': 'demo-key-for-bob', authorization: basic },
      });
      expect(both.status).toBe(200);
      expect(both.json().headers['x-user']).toBe('demo');
      const preflight = await send(`${gw.url}/cors`, {
        method: 'OPTIONS',
        headers: {
          ...api,
          origin: 'https://pr-7.preview.example.com',
          'access-control-request-method': 'PUT',
        },
      });
      expect(preflight.headers['access-control-allow-origin']).toBe('https://pr-7.preview.example.com');
    } finally {
      await gw.close();
    }
  });

  it('http-routes: header routing, weighted split, rewrite and redirect to the demo backends', async () => {
    const gw = await run('http-routes');
    try {
      const host = { host: 'shop.example.com' };
      expect((await send(`${gw.url}/`, { headers: { ...host, 'x-version': 'v2' } })).json().server).toBe(
        'v2',
      );
      const rewritten = (await send(`${gw.url}/api/v1/items`, { headers: host })).json();
      expect(rewritten).toMatchObject({ server: 'v1', path: '/items' });
      const moved = await send(`${gw.url}/old-cart`, { headers: host });
      expect(moved.status).toBe(301);
      // The listener's port stays in the Location header (Gateway API: derived from the listener).
      expect(moved.headers.location).toBe(`http://shop.example.com:${gw.port}/cart`);
      let toV2 = 0;
      for (let i = 0; i < 400; i++)
        if ((await send(`${gw.url}/`, { headers: host })).json().server === 'v2') toV2++;
      expect(toV2).toBeGreaterThan(5);
      expect(toV2).toBeLessThan(40);
    } finally {
      await gw.close();
    }
  }, 60_000);
});
