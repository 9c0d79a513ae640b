import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { MINUTE_MS, roomInWindow } from './support/budget-windows.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { parseMetrics, sumOf } from './support/prometheus-text.ts';

const consumerSecret = (name: string, key: string, consumer: string, team: string) => `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
stringData: {api-key: ${key}, consumer: ${consumer}, team: ${team}}
`;

/** Client identity and token-cost budgets through the real proxy (in-process counters). */
describe('TokenRateLimitPolicy', () => {
  let fake: RunningFake;
  let dropper: RunningFake;
  let gw: TestGateway;
  const client = (key?: string, headers: Record<string, string> = {}) =>
    new OpenAI({
      apiKey: key ?? 'none',
      baseURL: `${gw.url}/v1`,
      maxRetries: 0,
      defaultHeaders: key ? headers : { ...headers, authorization: '' },
    });

  beforeAll(async () => {
    fake = await startFake({ name: 'llm', behavior: { replyTokens: 10 } });
    dropper = await startFake({
      name: 'drop',
      behavior: { replyTokens: 30, dropAfterChunks: 5, tokenDelayMs: 5 },
    });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'consumers.yaml':
        consumerSecret('alice', 'sk-alice-0001', 'alice', 'ml') +
        consumerSecret('bob', 'sk-bob-0002', 'bob', 'web') +
        consumerSecret('dave', 'sk-dave-0003', 'dave', 'ml') +
        consumerSecret('erin', 'sk-erin-0004', 'erin', 'web') +
        secretYaml('unused', { k: 'v' }),
      'backends.yaml':
        aiBackendYaml(
          'chat',
          ['gpt-x'],
          [{ name: 'llm', provider: 'OpenAI', url: `${fake.url}/v1` }],
          '  pricing: [{model: gpt-x, inputPerMillion: 2000, outputPerMillion: 8000}]\n',
        ) +
        aiBackendYaml('cut', ['gpt-cut'], [{ name: 'drop', provider: 'OpenAI', url: `${dropper.url}/v1` }]),
      'routes.yaml': httpRouteYaml(aiRuleYaml('cut', { model: 'gpt-cut' }) + aiRuleYaml('chat')),
      'policies.yaml': `---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: teams, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  identity:
    apiKeys: [{secretRef: {name: alice}}, {secretRef: {name: bob}}, {secretRef: {name: dave}}, {secretRef: {name: erin}}]
    trustedHeaders: {consumer: x-consumer, team: x-team}
  limits:
    - {name: alice-total, per: Consumer, match: {consumers: [alice]}, measure: TotalTokens, amount: 300, window: Minute}
    - {name: team-usd, per: Team, measure: CostUSD, amount: 100, window: Month}
    - {name: erin-requests, per: Consumer, match: {consumers: [erin]}, measure: Requests, amount: 3, window: Minute}
    - {name: dave-output, per: Consumer, match: {consumers: [dave]}, measure: OutputTokens, amount: 5000, window: Hour}
---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: bob-shadow, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ai}]
  shadow: true
  limits:
    - {name: bob-total, per: Consumer, match: {consumers: [bob]}, measure: TotalTokens, amount: 50, window: Minute}
`,
    });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([fake.close(), dropper.close()]);
  });

  const metrics = async () => parseMetrics((await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text);
  const ask = (n: number) => [{ role: 'user' as const, content: `question number ${n}` }];

  it('refuses unknown API keys and anonymous callers with 401', async () => {
    const unknown = await client('sk-nobody')
      .chat.completions.create({ model: 'gpt-x', messages: ask(0) })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((unknown as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    const anonymous = await send(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-x', messages: ask(0) }),
    });
    expect([anonymous.status, JSON.parse(anonymous.text).error.code]).toEqual([401, 'missing_api_key']);
    expect(fake.requests).toHaveLength(0);
  });

  it('admits, settles to the reported usage, then refuses with 429 and OpenAI rate-limit headers', async () => {
    await roomInWindow(MINUTE_MS, 20_000);
    const alice = client('sk-alice-0001');
    const before = fake.reported.length;
    const remaining: number[] = [];
    let refused: unknown;
    for (let i = 0; i < 40 && !refused; i++) {
      try {
        const stream = i % 2 === 0;
        const { response, data } = await alice.chat.completions
          .create({ model: 'gpt-x', messages: ask(i), max_tokens: 10, stream })
          .withResponse();
        if (stream)
          for await (const _ of data as AsyncIterable<unknown>) {
            /* drain */
          }
        expect(response.headers.get('x-ratelimit-limit-tokens')).toBe('300');
        expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^(\d+m)?[\d.]+s$/);
        remaining.push(Number(response.headers.get('x-ratelimit-remaining-tokens')));
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    const e = refused as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.code).toBe('budget_exceeded');
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0);
    // headers.get() answers null for a missing header, so the value itself is checked.
    expect(e.headers?.get('x-ratelimit-remaining-tokens')).toMatch(/^\d+$/);
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a));
    const served = fake.reported.slice(before);
    const used = served.reduce((n, u) => n + u.prompt + u.completion, 0);
    expect(used).toBeLessThanOrEqual(300);
    const samples = await metrics();
    // Settled counters equal the provider-reported usage exactly, streamed and not.
    expect(
      sumOf(samples, 'sluice_budget_consumed_total', {
        budget: 'default/teams/alice-total',
        consumer: 'alice',
      }),
    ).toBe(used);
    // The same requests were charged to a second budget in USD (prices are per million tokens).
    const usd = served.reduce((n, u) => n + (u.prompt * 2000 + u.completion * 8000) / 1e6, 0);
    expect(
      sumOf(samples, 'sluice_budget_consumed_total', { budget: 'default/teams/team-usd', team: 'ml' }),
    ).toBeCloseTo(usd, 6);
    expect(
      sumOf(samples, 'sluice_ratelimit_rejections_total', {
        budget: 'default/teams/alice-total',
        reason: 'over_budget',
      }),
    ).toBe(1);
  });

  it('counts requests too, with the request-count headers', async () => {
    await roomInWindow(MINUTE_MS, 20_000);
    const erin = client('sk-erin-0004');
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await erin.chat.completions
        .create({ model: 'gpt-x', messages: ask(i) })
        .withResponse();
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('3');
      remaining.push(response.headers.get('x-ratelimit-remaining-requests'));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const fourth = await erin.chat.completions
      .create({ model: 'gpt-x', messages: ask(4) })
      .catch((e: unknown) => e);
    expect(fourth).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('reports but does not refuse in shadow mode', async () => {
    await roomInWindow(MINUTE_MS, 20_000);
    const bob = client('sk-bob-0002');
    for (let i = 0; i < 6; i++)
      await bob.chat.completions.create({ model: 'gpt-x', messages: ask(i), max_tokens: 10 });
    const samples = await metrics();
    expect(
      sumOf(samples, 'sluice_ratelimit_rejections_total', {
        budget: 'default/bob-shadow/bob-total',
        reason: 'shadow_over_budget',
      }),
    ).toBeGreaterThan(0);
    expect(
      sumOf(samples, 'sluice_budget_consumed_total', {
        budget: 'default/bob-shadow/bob-total',
        consumer: 'bob',
      }),
    ).toBeGreaterThan(50);
  });

  it('identifies callers by trusted headers', async () => {
    const carol = await send(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-consumer': 'carol', 'x-team': 'ml' },
      body: JSON.stringify({ model: 'gpt-x', messages: ask(1) }),
    });
    expect(carol.status).toBe(200);
    const samples = await metrics();
    expect(
      sumOf(samples, 'sluice_budget_consumed_total', {
        budget: 'default/teams/team-usd',
        consumer: 'carol',
        team: 'ml',
      }),
    ).toBeGreaterThan(0);
    expect(sumOf(samples, 'sluice_ai_cost_usd_total', { consumer: 'carol', team: 'ml' })).toBeGreaterThan(0);
  });

  it('settles a stream cut short with a local token count', async () => {
    const dave = client('sk-dave-0003');
    const stream = await dave.chat.completions.create({ model: 'gpt-cut', messages: ask(1), stream: true });
    await expect(
      (async () => {
        for await (const _ of stream) {
          /* drain until the error event */
        }
      })(),
    ).rejects.toThrow();
    // The local count runs in the tokenizer's worker, which loads its ranks on first use.
    await expect
      .poll(
        async () =>
          sumOf(await metrics(), 'sluice_budget_consumed_total', {
            budget: 'default/teams/dave-output',
            consumer: 'dave',
          }),
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    const counted = sumOf(await metrics(), 'sluice_budget_consumed_total', {
      budget: 'default/teams/dave-output',
      consumer: 'dave',
    });
    // Five words reached the client before the cut; the estimate (1024 default output tokens) was refunded.
    expect(counted).toBeLessThan(30);
  });
});
