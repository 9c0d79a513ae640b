import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SluiceProcess, startSluice } from '../bench/targets/sluice.ts';
import { startBackend, type TestBackend } from './support/backends.ts';
import { MINUTE_MS, roomInWindow } from './support/budget-windows.ts';
import {
  gatewayYaml,
  backendTrafficPolicyYaml as policy,
  prefixRouteYaml,
  serviceYaml,
  startGateway,
  type TestGateway,
} from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { startRedis, type TestRedis } from './support/redis.ts';

/** Waits for the start of the next whole second (the limiter's windows are aligned to them). */
async function nextSecond(): Promise<number> {
  const start = (Math.floor(Date.now() / 1000) + 1) * 1000;
  while (Date.now() < start) await new Promise((r) => setTimeout(r, start - Date.now()));
  return start;
}

/**
 * Sends requests as fast as `concurrency` clients can for `seconds` whole windows (stopping 10 ms
 * before the last ends, so every request is counted within them) and returns what was admitted.
 */
async function hammer(
  urls: string[],
  seconds: number,
  concurrency: number,
  agent: Agent,
  headers: Record<string, string> = {},
): Promise<{ ok: number[]; total: number; limited: number; other: number[] }> {
  const start = await nextSecond();
  const end = start + seconds * 1000 - 10;
  const ok = Array.from({ length: seconds }, () => 0);
  let limited = 0;
  let total = 0;
  const other: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const sentIn = Math.floor((Date.now() - start) / 1000);
        const res = await request(urls[n++ % urls.length]!, { headers, dispatcher: agent });
        await res.body.dump();
        const answeredIn = Math.floor((Date.now() - start) / 1000);
        // Answered within the windows: admitted within them. One answered after them (sent in the
        // last 10 ms, slow under load) may have been admitted in either window: counted in neither.
        if (res.statusCode === 200) {
          if (answeredIn < seconds) total++;
        } else if (res.statusCode === 429) limited++;
        else other.push(res.statusCode);
        // Per window, only answers sent and received in it (one that straddles a boundary may have
        // been counted in either window).
        if (res.statusCode === 200 && sentIn === answeredIn && answeredIn < seconds) ok[answeredIn]!++;
      }
    }),
  );
  return { ok, total, limited, other };
}

describe('BackendTrafficPolicy local rate limits', () => {
  let backend: TestBackend;
  let gw: TestGateway;
  const agent = new Agent({ connections: 16 });

  beforeAll(async () => {
    backend = await startBackend('app');
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${serviceYaml('app', [backend.port])}${prefixRouteYaml('flat', '/flat', 'app')}${prefixRouteYaml('per-user', '/user', 'app')}${prefixRouteYaml('shadow', '/shadow', 'app')}${policy(
        'flat',
        'flat',
        `  rateLimit:
    local:
      rules:
        - limit: {requests: 20, unit: Second}
`,
      )}${policy(
        'per-user',
        'per-user',
        `  rateLimit:
    local:
      rules:
        - clientSelectors: [{headers: [{name: x-user, type: Distinct}]}]
          limit: {requests: 3, unit: Minute}
        - clientSelectors: [{headers: [{name: x-user, value: admin, invert: true}], methods: [{value: POST}]}]
          limit: {requests: 1, unit: Minute}
`,
      )}${policy(
        'shadow',
        'shadow',
        `  rateLimit:
    local:
      rules:
        - limit: {requests: 1, unit: Minute}
          shadowMode: true
`,
      )}`,
    });
  });
  afterAll(async () => {
    await agent.close();
    await gw?.close();
    await backend?.close();
  });

  it('holds a per-second limit exactly in every whole window under load, and says so in headers', async () => {
    const { ok, total, limited, other } = await hammer([`${gw.url}/flat`], 3, 8, agent);
    expect(other).toEqual([]);
    // No window admits more than the limit, and the run admits it within 5% (exactly, in practice).
    for (const count of ok) expect(count).toBeLessThanOrEqual(20);
    expect(total).toBeLessThanOrEqual(60);
    expect(total).toBeGreaterThanOrEqual(57);
    expect(limited).toBeGreaterThan(50);
    await nextSecond();
    const first = await send(`${gw.url}/flat`);
    expect(first.status).toBe(200);
    expect(first.headers['ratelimit-policy']).toBe('"default";q=20;w=1');
    expect(first.headers.ratelimit).toMatch(/^"default";r=19;t=[01]$/);
    expect(first.headers['x-ratelimit-limit']).toBe('20');
    expect(first.headers['x-ratelimit-remaining']).toBe('19');
    for (let i = 0; i < 19; i++) await send(`${gw.url}/flat`);
    const refused = await send(`${gw.url}/flat`);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text).error.code).toBe('rate_limited');
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
  });

  it('gives every distinct header value its own bucket and applies the stricter of two matching rules', async () => {
    await roomInWindow(MINUTE_MS, 10_000);
    for (let i = 0; i < 3; i++)
      expect((await send(`${gw.url}/user`, { headers: { 'x-user': 'alice' } })).status).toBe(200);
    expect((await send(`${gw.url}/user`, { headers: { 'x-user': 'alice' } })).status).toBe(429);
    // Bob has his own bucket; his POST also counts in the one-POST-a-minute rule for non-admins.
    expect((await send(`${gw.url}/user`, { method: 'POST', headers: { 'x-user': 'bob' } })).status).toBe(200);
    const second = await send(`${gw.url}/user`, { method: 'POST', headers: { 'x-user': 'bob' } });
    expect(second.status).toBe(429);
    expect(Number(second.headers['retry-after'])).toBeGreaterThan(0);
    expect((await send(`${gw.url}/user`, { headers: { 'x-user': 'bob' } })).status).toBe(200);
    // The admin is not in the POST rule; a request without the header is in no Distinct bucket.
    expect((await send(`${gw.url}/user`, { method: 'POST', headers: { 'x-user': 'admin' } })).status).toBe(
      200,
    );
    expect((await send(`${gw.url}/user`, { method: 'POST', headers: { 'x-user': 'admin' } })).status).toBe(
      200,
    );
    for (let i = 0; i < 5; i++) expect((await send(`${gw.url}/user`)).status).toBe(200);
  });

  it('never refuses in shadow mode, and counts what it would have refused', async () => {
    await roomInWindow(MINUTE_MS, 10_000);
    for (let i = 0; i < 5; i++) expect((await send(`${gw.url}/shadow`)).status).toBe(200);
    const metrics = (await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text;
    expect(metrics).toMatch(
      /sluice_rate_limit_decisions_total\{policy="default\/shadow",scope="local",result="shadow_limited"\} 4/,
    );
  });
});

describe('BackendTrafficPolicy global rate limits across two proxy processes on one Redis', () => {
  let redis: TestRedis;
  let backend: TestBackend;
  let proxies: SluiceProcess[];
  const agent = new Agent({ connections: 32 });

  beforeAll(async () => {
    redis = await startRedis();
    backend = await startBackend('app');
    proxies = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      proxies.push(
        await startSluice(
          port,
          await freePort(),
          `${serviceYaml('app', [backend.port])}${prefixRouteYaml('api', '/', 'app')}${prefixRouteYaml('strict', '/strict', 'app')}${policy(
            'shared-limit',
            'api',
            `  rateLimit:
    global:
      rules:
        # Each replica leases 4 tokens at a time from Redis (2% of the limit over 2 replicas).
        - limit: {requests: 400, unit: Second}
`,
          )}${policy(
            'strict',
            'strict',
            `  rateLimit:
    global:
      failureMode: FailClosed
      rules:
        # Small enough that each request leases one token (no local stock to spend while Redis stalls).
        - limit: {requests: 50, unit: Second}
`,
          )}`,
          ['--redis-url', redis.url],
          gatewayYaml(port),
        ),
      );
    }
  });
  afterAll(async () => {
    await agent.close();
    await Promise.all((proxies ?? []).map((p) => p.stop()));
    await backend?.close();
    await redis?.close();
  });

  it('admits the configured rate in total, whichever replica a request reaches', async () => {
    const urls = proxies.map((p) => `http://127.0.0.1:${p.port}/`);
    const { ok, total, limited, other } = await hammer(urls, 3, 16, agent);
    expect(other).toEqual([]);
    for (const count of ok) expect(count).toBeLessThanOrEqual(400);
    // Within 5% of the configured rate over the run, never above it.
    expect(total).toBeLessThanOrEqual(1200);
    expect(total).toBeGreaterThanOrEqual(1140);
    expect(limited).toBeGreaterThan(100);
  });

  it('answers every request while Redis stalls: fail-open limits count locally, fail-closed ones refuse with 503', async () => {
    const url = `http://127.0.0.1:${proxies[0]!.port}`;
    await nextSecond();
    expect((await send(`${url}/strict`)).status).toBe(200);
    redis.pause();
    try {
      const open = await send(`${url}/`);
      const closed = await send(`${url}/strict`);
      expect(open.status).toBe(200);
      expect(closed.status).toBe(503);
      expect(JSON.parse(closed.text).error.code).toBe('rate_limiter_unavailable');
      expect(closed.headers['retry-after']).toBe('1');
    } finally {
      redis.resume();
    }
    // Back to Redis once it answers again (the store probes it every 250 ms).
    await expect
      .poll(async () => (await send(`${url}/strict`)).status, { timeout: 10_000, interval: 100 })
      .toBe(200);
  });
});
