import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type SluiceProcess, startSluice } from '../bench/targets/sluice.ts';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { startRedis, type TestRedis } from './support/redis.ts';

const objects = (llmUrl: string) => `---
apiVersion: v1
kind: Secret
metadata: {name: alice, namespace: default}
stringData: {api-key: sk-alice, consumer: alice, team: ml}
---
apiVersion: v1
kind: Secret
metadata: {name: bob, namespace: default}
stringData: {api-key: sk-bob, consumer: bob, team: ops}
---
apiVersion: v1
kind: Secret
metadata: {name: carol, namespace: default}
stringData: {api-key: sk-carol, consumer: carol, team: ops}
${aiBackendYaml('chat', ['gpt-x'], [{ name: 'llm', provider: 'OpenAI', url: `${llmUrl}/v1` }])}${httpRouteYaml(aiRuleYaml('chat'))}---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: open, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  identity:
    apiKeys: [{secretRef: {name: alice}}, {secretRef: {name: bob}}, {secretRef: {name: carol}}]
  failureMode: FailOpen
  limits:
    - {name: alice-total, per: Consumer, match: {consumers: [alice]}, measure: TotalTokens, amount: 2000, window: Month}
    - {name: bob-total, per: Consumer, match: {consumers: [bob]}, measure: TotalTokens, amount: 100000000, window: Month}
---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: closed, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  failureMode: FailClosed
  limits:
    - {name: carol-total, per: Consumer, match: {consumers: [carol]}, measure: TotalTokens, amount: 100000000, window: Month}
`;

/** Two proxy processes sharing one real Redis: exact shared budgets, and Redis dying under load. */
describe('budgets shared through Redis', () => {
  let redis: TestRedis;
  let fake: RunningFake;
  let proxies: SluiceProcess[];
  let counters: Redis;
  const agent = new Agent({ connections: 64 });

  beforeAll(async () => {
    redis = await startRedis();
    fake = await startFake({ name: 'llm', behavior: { replyTokens: 10 } });
    proxies = [];
    for (let i = 0; i < 2; i++)
      proxies.push(
        await startSluice(await freePort(), await freePort(), objects(fake.url), ['--redis-url', redis.url]),
      );
    counters = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    counters.on('error', () => {}); // expected while the test kills Redis
    await counters.connect();
  });
  afterAll(async () => {
    counters.disconnect();
    await Promise.all(proxies.map((p) => p.stop()));
    await agent.close();
    await fake.close();
    await redis.close();
  });

  const chat = async (proxy: SluiceProcess, key: string, n: number) => {
    const res = await request(`http://127.0.0.1:${proxy.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model: 'gpt-x',
        messages: [{ role: 'user', content: `request ${n} please` }],
        max_tokens: 10,
      }),
      dispatcher: agent,
    });
    await res.body.dump();
    return res.statusCode;
  };
  const counter = async (budget: string, consumer: string) => {
    // The window counter, not the operation markers (`…:op:<id>`) kept beside it.
    const keys = (await counters.keys(`sluice:{${budget}|${consumer}}:*`)).filter((k) => !k.includes(':op:'));
    return keys.length === 0 ? 0 : Number(await counters.get(keys[0]!));
  };

  it('never admits more than the budget across replicas, and counts exactly the reported usage', async () => {
    const before = fake.reported.length;
    const statuses: number[] = [];
    let n = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        while (n < 400) statuses.push(await chat(proxies[w % 2]!, 'sk-alice', n++));
      }),
    );
    const served = fake.reported.slice(before);
    const used = served.reduce((sum, u) => sum + u.prompt + u.completion, 0);
    expect(statuses.filter((s) => s === 200)).toHaveLength(served.length);
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    // Estimates (request bytes / 4 + max_tokens) exceed the fake's counts, so the documented bound,
    // the sum of in-flight (actual - estimate)+, is zero here: the budget is never exceeded.
    expect(used).toBeLessThanOrEqual(2000);
    expect(used).toBeGreaterThan(1500);
    expect(await counter('default/open/alice-total', 'alice')).toBe(used);
  });

  it('keeps serving when Redis dies (fail-open), refuses fail-closed budgets, and loses no charge', async () => {
    const before = fake.reported.length;
    const statuses: number[] = [];
    let n = 0;
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (!stop && n < 5000) statuses.push(await chat(proxies[w % 2]!, 'sk-bob', n++));
      }),
    );
    const metricsOf = async (i: number) =>
      (await send(`http://127.0.0.1:${proxies[i]!.adminPort}/metrics`)).text;
    const served = (more: number) => {
      const target = statuses.length + more;
      return vi.waitFor(() => expect(statuses.length).toBeGreaterThanOrEqual(target), { timeout: 20_000 });
    };
    await served(100);
    await redis.kill();
    // Both proxies notice the store is gone (their probes), then go on serving fail-open budgets.
    for (const i of [0, 1])
      await vi.waitFor(
        async () => expect(await metricsOf(i)).toContain('sluice_ratelimit_store_degraded 1'),
        {
          timeout: 10_000,
        },
      );
    const closed = await chat(proxies[0]!, 'sk-carol', 0);
    const metrics = await metricsOf(0);
    await served(100);
    await redis.start();
    for (const i of [0, 1])
      await vi.waitFor(
        async () => expect(await metricsOf(i)).toContain('sluice_ratelimit_store_degraded 0'),
        {
          timeout: 10_000,
        },
      );
    await served(100);
    stop = true;
    await load;
    expect(closed).toBe(503);
    expect(metrics).toContain('sluice_ratelimit_store_degraded 1');
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const used = fake.reported.slice(before).reduce((sum, u) => sum + u.prompt + u.completion, 0);
    // Charges made while Redis was down were queued and replayed once it came back.
    await expect.poll(() => counter('default/open/bob-total', 'bob'), { timeout: 5000 }).toBe(used);
    expect(await chat(proxies[1]!, 'sk-carol', 1)).toBe(200);
  });
});
