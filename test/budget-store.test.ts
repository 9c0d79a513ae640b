import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** One budget of `amount` tokens on `store`, with a clock the test moves. */
function enforcerAt(store: RedisStore, amount: number, now: () => number): BudgetEnforcer {
  return new BudgetEnforcer([limit({ amount })], new ResilientStore(store, () => {}, now), noEvents, now);
}

/** Budget counters against a real redis-server. */
describe('budget store on Redis', () => {
  let redis: TestRedis;
  let store: RedisStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = new RedisStore({ url: redis.url, commandTimeoutMs: 500, onStateChange: () => {} });
    await new Promise((r) => setTimeout(r, 200));
  });
  afterAll(async () => {
    await store.close();
    await redis.close();
  });

  it('admits concurrent reservations atomically, never past the limit', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, () => store.reserve('sluice:{atomic|x}:0', 10, 1000, 60_000, randomUUID())),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(100);
    expect(await store.get('sluice:{atomic|x}:0')).toBe(1000);
  });

  it('applies an operation once, even when it is sent again after a lost reply', async () => {
    const key = 'sluice:{idempotent|x}:0';
    await store.adjust(key, 5, 60_000, 'op-1');
    await store.adjust(key, 5, 60_000, 'op-1');
    await store.reserve(key, 7, 100, 60_000, 'op-2');
    await store.reserve(key, 7, 100, 60_000, 'op-2');
    expect(await store.get(key)).toBe(12);
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
    const resilient: ResilientStore = new ResilientStore(flaky, (d) => {
      degraded = d;
    });
    await new Promise((r) => setTimeout(r, 200));
    const enforcer = new BudgetEnforcer([limit({ amount: 10_000 })], resilient, noEvents);
    const l = enforcer.applicable(request(0));
    const first = await enforcer.admit(request(100), l);
    await local.kill();
    const during = await enforcer.admit(request(50), l);
    expect(during.kind).toBe('admitted');
    expect(degraded).toBe(true);
    expect(resilient.pendingCharges).toBe(1);
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
    await new Promise((r) => setTimeout(r, 200));
    const enforcer = new BudgetEnforcer(
      [limit({ failureMode: 'FailClosed' })],
      new ResilientStore(flaky, () => {}),
      noEvents,
    );
    await local.kill();
    const l = enforcer.applicable(request(0));
    expect((await enforcer.admit(request(1), l)).kind).toBe('unavailable');
    await flaky.close();
    await local.close();
  });
});
