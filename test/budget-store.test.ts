import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BudgetLimit } from '../proxy/src/config/budgets.ts';
import { BudgetEnforcer, type BudgetEvents } from '../proxy/src/ratelimit/budget-enforcer.ts';
import { RedisStore } from '../proxy/src/ratelimit/redis-store.ts';
import { ResilientStore } from '../proxy/src/ratelimit/resilient-store.ts';
import { startRedis, type TestRedis } from './support/redis.ts';

const noEvents: BudgetEvents = {
  rejected: () => {},
  remaining: () => {},
  consumed: () => {},
  reservations: () => {},
};

function limit(overrides: Partial<BudgetLimit> = {}): BudgetLimit {
  return {
    name: `default/p/${Math.random().toString(36).slice(2)}`,
    scope: { kind: 'Gateway' },
    per: 'Consumer',
    match: {},
    measure: 'TotalTokens',
    amount: 1000,
    window: 'Minute',
    shadow: false,
    failureMode: 'FailOpen',
    requireIdentity: false,
    defaultMaxOutputTokens: 0,
    ...overrides,
  };
}

const request = (input: number, output = 0) => ({
  routeName: 'httproute/default/r/rule/0/match/0',
  aiBackend: 'default/b',
  model: 'm',
  headers: {},
  caller: { consumer: 'alice', team: 'ml' },
  estimate: { input, output },
  price: () => 0,
});

/** Budgets scoped to the Gateway need no route table. */
const NO_ROUTES = new Map();

/** One budget of `amount` tokens on `store`, with a clock the test moves. */
function enforcerAt(store: RedisStore, amount: number, now: () => number): BudgetEnforcer {
  return new BudgetEnforcer(
    [limit({ amount })],
    NO_ROUTES,
    new ResilientStore(store, { onDegraded: () => {}, now }),
    noEvents,
    now,
  );
}

/** Budget counters against a real redis-server. */
describe('budget store on Redis', () => {
  let redis: TestRedis;
  let store: RedisStore;
  /** A plain client, to read Redis's own command counts. */
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    store = new RedisStore({ url: redis.url, commandTimeoutMs: 500, onStateChange: () => {} });
    admin = new Redis(redis.url);
    await vi.waitFor(() => store.ping(), { timeout: 5000, interval: 20 });
  });
  afterAll(async () => {
    admin.disconnect();
    await store.close();
    await redis.close();
  });

  it('admits concurrent reservations atomically, never past the limit', async () => {
    const item = { key: 'sluice:{atomic|x}:0', amount: 10, limit: 1000, ttlMs: 60_000, enforce: true };
    const results = await Promise.all(
      Array.from({ length: 200 }, () => store.reserveGroup([item], randomUUID())),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(100);
    expect(await store.get('sluice:{atomic|x}:0')).toBe(1000);
  });

  it('applies an operation once, even when it is sent again after a lost reply', async () => {
    const key = 'sluice:{idempotent|x}:0';
    await store.adjust(key, 5, 60_000, 'op-1');
    await store.adjust(key, 5, 60_000, 'op-1');
    const item = { key, amount: 7, limit: 100, ttlMs: 60_000, enforce: true };
    await store.reserveGroup([item], 'op-2');
    await store.reserveGroup([item], 'op-2');
    expect(await store.get(key)).toBe(12);
  });

  it('admits a request with two budgets in one Redis command, and one refused by either holds nothing in the other', async () => {
    const tokens = limit({ name: 'default/p/tokens', amount: 100 });
    const requests = limit({ name: 'default/p/requests', measure: 'Requests', amount: 1000 });
    const enforcer = new BudgetEnforcer(
      [tokens, requests],
      NO_ROUTES,
      new ResilientStore(store, { onDegraded: () => {} }),
      noEvents,
    );
    const l = enforcer.applicable(request(0));
    expect(l).toHaveLength(2);
    const admitted = await enforcer.admit(request(60), l);
    if (admitted.kind !== 'admitted') throw new Error('expected admission');
    const [tokenKey, requestKey] = admitted.reservations.map((r) => r.key);
    const scriptCalls = async () => {
      const stats = String(await admin.info('commandstats'));
      return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const before = await scriptCalls();
    // 50 concurrent requests, two budgets each: one script call for all (one event-loop turn).
    const decisions = await Promise.all(Array.from({ length: 50 }, () => enforcer.admit(request(10), l)));
    expect(await scriptCalls()).toBe(before + 1);
    expect(decisions.filter((d) => d.kind === 'admitted')).toHaveLength(4);
    // The 46 refused by the token budget took nothing from the other one (nor gave it back: one call).
    expect(await store.get(tokenKey!)).toBe(100);
    expect(await store.get(requestKey!)).toBe(5);
    expect(decisions.find((d) => d.kind === 'over_budget')).toMatchObject({
      limit: { name: 'default/p/tokens' },
      headers: { 'x-ratelimit-remaining-tokens': '0' },
    });
  });

  it('rolls windows over: a spent budget is available again in the next window', async () => {
    let now = Date.parse('2026-11-27T10:00:30Z');
    const enforcer = enforcerAt(store, 100, () => now);
    const l = enforcer.applicable(request(0));
    expect((await enforcer.admit(request(100), l)).kind).toBe('admitted');
    const refused = await enforcer.admit(request(1), l);
    expect(refused).toMatchObject({ kind: 'over_budget', retryAfterMs: 30_000 });
    now = Date.parse('2026-11-27T10:01:00Z');
    expect((await enforcer.admit(request(100), l)).kind).toBe('admitted');
  });

  it('settles to the reported usage: refunds what the estimate over-reserved', async () => {
    const now = Date.parse('2026-11-27T11:00:00Z');
    const enforcer = enforcerAt(store, 100, () => now);
    const l = enforcer.applicable(request(0));
    const a = await enforcer.admit(request(90), l);
    if (a.kind !== 'admitted') throw new Error('expected admission');
    await enforcer.settle(
      a.reservations,
      request(0).caller,
      { input: 20, cachedInput: 0, output: 10, reasoning: 0 },
      0,
    );
    expect(await store.get(a.reservations[0]!.key)).toBe(30);
    expect((await enforcer.admit(request(70), l)).kind).toBe('admitted');
  });

  it('keeps counting locally while Redis is down and replays the charges when it is back', async () => {
    const local = await startRedis();
    const flaky = new RedisStore({
      url: local.url,
      commandTimeoutMs: 200,
      onStateChange: (up) => void (up && resilient.recovered()),
    });
    let degraded = false;
    const resilient: ResilientStore = new ResilientStore(flaky, {
      onDegraded: (d) => {
        degraded = d;
      },
    });
    await vi.waitFor(() => flaky.ping(), { timeout: 5000, interval: 20 });
    const enforcer = new BudgetEnforcer([limit({ amount: 10_000 })], NO_ROUTES, resilient, noEvents);
    const l = enforcer.applicable(request(0));
    const first = await enforcer.admit(request(100), l);
    await local.kill();
    const during = await enforcer.admit(request(50), l);
    expect(during.kind).toBe('admitted');
    expect(degraded).toBe(true);
    // The lost reservation is withdrawn in Redis and the local admission replayed: two changes.
    expect(resilient.pendingCharges).toBe(2);
    await local.start();
    await expect.poll(() => resilient.pendingCharges, { timeout: 5000 }).toBe(0);
    if (first.kind !== 'admitted') throw new Error('expected admission');
    expect(await flaky.get(first.reservations[0]!.key)).toBe(150);
    expect(degraded).toBe(false);
    await flaky.close();
    await local.close();
  });

  it('refuses fail-closed budgets while Redis is down', async () => {
    const local = await startRedis();
    const flaky = new RedisStore({ url: local.url, commandTimeoutMs: 200, onStateChange: () => {} });
    await vi.waitFor(() => flaky.ping(), { timeout: 5000, interval: 20 });
    const enforcer = new BudgetEnforcer(
      [limit({ failureMode: 'FailClosed' })],
      NO_ROUTES,
      new ResilientStore(flaky, { onDegraded: () => {} }),
      noEvents,
    );
    await local.kill();
    const l = enforcer.applicable(request(0));
    expect((await enforcer.admit(request(1), l)).kind).toBe('unavailable');
    await flaky.close();
    await local.close();
  });
});

/** The outages the hardening probe found: stalls without a disconnect, long queues, fail-open overshoot. */
describe('budget store under Redis faults', () => {
  const connected = async (store: RedisStore) => {
    await expect.poll(() => store.connected, { timeout: 5000 }).toBe(true);
  };

  it('refuses fail-closed budgets during a 2 s stall, keeps nothing Redis applied late, and recovers without a reconnect', async () => {
    const redis = await startRedis();
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: 200, onStateChange: () => {} });
    await connected(store);
    const resilient = new ResilientStore(store, { onDegraded: () => {} });
    const enforcer = new BudgetEnforcer(
      [
        limit({ failureMode: 'FailClosed', amount: 1000 }),
        limit({ failureMode: 'FailClosed', measure: 'Requests', amount: 1000 }),
      ],
      NO_ROUTES,
      resilient,
      noEvents,
    );
    const l = enforcer.applicable(request(0));
    const first = await enforcer.admit(request(100), l);
    if (first.kind !== 'admitted') throw new Error('expected admission');
    const [tokenKey, requestKey] = first.reservations.map((r) => r.key);
    redis.pause();
    const pausedAt = performance.now();
    const stalled = await Promise.all(Array.from({ length: 5 }, () => enforcer.admit(request(50), l)));
    expect(stalled.map((a) => a.kind)).toEqual(Array(5).fill('unavailable'));
    expect(resilient.degraded).toBe(true);
    // The fault lasts 2 s, as in the probe that found it.
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (performance.now() - pausedAt))));
    redis.resume();
    await expect.poll(() => resilient.degraded, { timeout: 5000 }).toBe(false);
    // The five reservations Redis applied after the stall were withdrawn from both budgets: only the
    // first request counts.
    expect(await store.get(tokenKey!)).toBe(100);
    expect(await store.get(requestKey!)).toBe(1);
    await store.close();
    resilient.close();
    await redis.close();
  });

  it('counts fail-open charges made during a stall exactly once', async () => {
    const redis = await startRedis();
    const store = new RedisStore({ url: redis.url, commandTimeoutMs: 200, onStateChange: () => {} });
    await connected(store);
    const resilient = new ResilientStore(store, { onDegraded: () => {} });
    const enforcer = new BudgetEnforcer([limit({ amount: 1_000_000 })], NO_ROUTES, resilient, noEvents);
    const l = enforcer.applicable(request(0));
    let key = '';
    let expected = 0;
    const serve = async (input: number, actual: number) => {
      const a = await enforcer.admit(request(input), l);
      if (a.kind !== 'admitted') throw new Error(`expected admission, got ${a.kind}`);
      key = a.reservations[0]!.key;
      await enforcer.settle(
        a.reservations,
        { consumer: 'alice', team: 'ml' },
        { input: actual, output: 0, cachedInput: 0, reasoning: 0 },
        0,
      );
      expected += actual;
    };
    await serve(10, 7);
    redis.pause();
    const pausedAt = performance.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => serve(10, i + 1)));
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (performance.now() - pausedAt))));
    redis.resume();
    await expect.poll(() => resilient.degraded, { timeout: 5000 }).toBe(false);
    expect(resilient.pendingCharges).toBe(0);
    expect(await store.get(key)).toBe(expected);
    await store.close();
    resilient.close();
    await redis.close();
  });

  it('replays thousands of queued charges to the end after a kill, then leaves the degraded state', async () => {
    const redis = await startRedis();
    let onUp = () => {};
    const store = new RedisStore({
      url: redis.url,
      commandTimeoutMs: 250,
      onStateChange: (up) => up && onUp(),
    });
    await connected(store);
    const resilient = new ResilientStore(store, { onDegraded: () => {} });
    onUp = () => void resilient.recovered();
    const enforcer = new BudgetEnforcer([limit({ amount: 100_000_000 })], NO_ROUTES, resilient, noEvents);
    const l = enforcer.applicable(request(0));
    await redis.kill();
    let key = '';
    for (let i = 0; i < 3000; i++) {
      const a = await enforcer.admit(request(3), l);
      if (a.kind !== 'admitted') throw new Error('expected admission');
      key = a.reservations[0]!.key;
      await enforcer.settle(
        a.reservations,
        { consumer: 'alice', team: 'ml' },
        { input: 2, output: 0, cachedInput: 0, reasoning: 0 },
        0,
      );
    }
    expect(resilient.pendingCharges).toBeGreaterThan(3000);
    await redis.start();
    await expect.poll(() => resilient.degraded, { timeout: 20_000 }).toBe(false);
    expect(resilient.pendingCharges).toBe(0);
    expect(await store.get(key)).toBe(6000);
    await store.close();
    resilient.close();
    await redis.close();
  }, 60_000);

  it('bounds fail-open overshoot across three replicas to their shares of what was left', async () => {
    const redis = await startRedis();
    const replicas = await Promise.all(
      [0, 1, 2].map(async () => {
        const store = new RedisStore({ url: redis.url, commandTimeoutMs: 200, onStateChange: () => {} });
        await connected(store);
        const resilient = new ResilientStore(store, { onDegraded: () => {} });
        return {
          store,
          resilient,
          enforcer: new BudgetEnforcer(
            [limit({ name: 'default/p/shared', amount: 3000 })],
            NO_ROUTES,
            resilient,
            noEvents,
          ),
        };
      }),
    );
    await expect
      .poll(() => replicas.every((r) => r.resilient.replicas === 3), { timeout: 10_000 })
      .toBe(true);
    const l = replicas[0]!.enforcer.applicable(request(0));
    let key = '';
    for (const r of replicas) {
      const a = await r.enforcer.admit(request(100), l);
      if (a.kind !== 'admitted') throw new Error('expected admission');
      key = a.reservations[0]!.key;
    }
    await redis.kill();
    let admittedDuringOutage = 0;
    for (const r of replicas)
      for (let i = 0; i < 400; i++)
        if ((await r.enforcer.admit(request(10), l)).kind === 'admitted') admittedDuringOutage += 10;
    await redis.start();
    await expect.poll(() => replicas.every((r) => !r.resilient.degraded), { timeout: 10_000 }).toBe(true);
    const total = await replicas[0]!.store.get(key);
    console.info(
      `fail-open across 3 replicas: budget 3000, 300 used before the kill, ${admittedDuringOutage} admitted during it, total ${total}`,
    );
    // Without the bound each replica would have admitted the whole budget again (total ≈ 9,300).
    expect(total).toBe(300 + admittedDuringOutage);
    expect(total).toBeLessThanOrEqual(3000 * 1.05);
    expect(admittedDuringOutage).toBeGreaterThan(2000);
    for (const r of replicas) {
      await r.store.close();
      r.resilient.close();
    }
    await redis.close();
  }, 60_000);
});
