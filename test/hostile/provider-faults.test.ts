import { monitorEventLoopDelay } from 'node:perf_hooks';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeFault } from '../../tools/fake-llm/behavior.ts';
import { aiBackendYaml, budgetPolicyYaml, modelRouteYaml, secretYaml } from '../support/ai-yaml.ts';
import { type RunningFake, startFake } from '../support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from '../support/gateway.ts';
import { freePort } from '../support/ports.ts';
import { scrapeMetrics, sumOf } from '../support/prometheus-text.ts';

const KEY = 'sk-live-0123456789abcdefSECRET';
// Breakers that never open, so one test's failures do not change the next test's path…
const SPEC =
  '  timeouts: {request: 3s, firstToken: 500ms}\n  retry: {attempts: 3}\n  cooldown: {consecutiveFailures: 1000, duration: 30s}\n';
// …except on the backend that tests the breaker itself.
const BREAKER_SPEC = SPEC.replace('consecutiveFailures: 1000', 'consecutiveFailures: 2');
const BUDGET = budgetPolicyYaml(
  'small',
  ['{name: tokens, per: Consumer, measure: TotalTokens, amount: 500, window: Day}'],
  {
    target: '{group: sluice.dev, kind: AIBackend, name: nousage}',
    defaultMaxOutputTokens: 1,
  },
);

/** Failover and accounting against providers that break in every way the fake can (FakeFault). */
describe('providers that hang, reset, drip, lie or leak', () => {
  let bad: RunningFake;
  let good: RunningFake;
  let solo: RunningFake;
  let flaky: RunningFake;
  let gw: TestGateway;
  beforeAll(async () => {
    [bad, good, solo, flaky] = await Promise.all([
      startFake({ name: 'bad' }),
      startFake({ name: 'good' }),
      startFake({ name: 'solo' }),
      startFake({ name: 'flaky', behavior: { replyTokens: 40, tokenDelayMs: 5 } }),
    ]);
    const closed = await freePort();
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port) + BUDGET + secretYaml('provider-keys', { openai: KEY }),
      'backends.yaml':
        aiBackendYaml(
          'pair',
          ['pair'],
          [
            { name: 'bad', provider: 'OpenAI', url: `${bad.url}/v1`, priority: 0 },
            { name: 'good', provider: 'OpenAI', url: `${good.url}/v1`, priority: 1 },
          ],
          SPEC,
        ) +
        aiBackendYaml(
          'solo',
          ['solo'],
          [{ name: 'solo', provider: 'OpenAI', url: `${solo.url}/v1`, secretKey: 'openai' }],
          SPEC,
        ) +
        aiBackendYaml(
          'breaker',
          ['breaker'],
          [{ name: 'flaky', provider: 'OpenAI', url: `${flaky.url}/v1` }],
          BREAKER_SPEC,
        ) +
        aiBackendYaml(
          'refused',
          ['refused'],
          [{ name: 'gone', provider: 'OpenAI', url: `http://127.0.0.1:${closed}/v1` }],
          SPEC,
        ) +
        aiBackendYaml(
          'mixed',
          ['mixed'],
          [
            { name: 'openai', provider: 'OpenAI', url: `${bad.url}/v1`, priority: 0 },
            { name: 'claude', provider: 'Anthropic', url: good.url, priority: 1 },
            { name: 'vllm', provider: 'OpenAICompatible', url: `${good.url}/v1`, priority: 2 },
          ],
          SPEC,
        ) +
        aiBackendYaml(
          'claude-only',
          ['claude-only'],
          [{ name: 'claude', provider: 'Anthropic', url: good.url }],
          SPEC,
        ) +
        aiBackendYaml(
          'nousage',
          ['nousage'],
          [{ name: 'n', provider: 'OpenAI', url: `${good.url}/v1` }],
          SPEC,
        ),
      'routes.yaml': modelRouteYaml({
        pair: 'pair',
        solo: 'solo',
        breaker: 'breaker',
        refused: 'refused',
        mixed: 'mixed',
        'claude-only': 'claude-only',
        nousage: 'nousage',
      }),
    });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([bad, good, solo, flaky].map((f) => f?.close()));
  });
  beforeEach(() => {
    bad.behavior = {};
    good.behavior = {};
    solo.behavior = {};
    flaky.behavior = { replyTokens: 40, tokenDelayMs: 5 };
  });

  const chat = async (
    model: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra }),
      headersTimeout: 10_000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };

  const failingOver: FakeFault[] = ['reset-mid-body', 'garbage', 'wrong-content-type', 'huge-headers'];
  for (const fault of failingOver) {
    it(`fails over from a provider answering with ${fault}`, async () => {
      bad.behavior = { fault };
      const res = await chat('pair');
      expect(res.status, res.text).toBe(200);
      expect(res.headers['x-sluice-ai-target']).toBe('good');
      expect(res.headers['x-sluice-attempts']).toBe('2');
    });
  }

  for (const fault of ['hang-mid-body', 'drip'] as FakeFault[]) {
    it(`ends a ${fault} answer at the request deadline with 504`, async () => {
      // Headers came in time, so no failover: the whole-request deadline (3 s) is what bounds it.
      bad.behavior = { fault };
      good.behavior = { status: 503 };
      const started = performance.now();
      const res = await chat('pair');
      expect([502, 503, 504]).toContain(res.status);
      expect(performance.now() - started).toBeLessThan(6000);
    });
  }

  it('fails over after firstToken when a non-streamed primary hangs (not after the whole deadline)', async () => {
    bad.behavior = { hang: true };
    const res = await chat('pair');
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({ 'x-sluice-ai-target': 'good', 'x-sluice-attempts': '2' });
  });

  it('relays a provider 401 that echoes the key and its address as a scrubbed 502, and fails over', async () => {
    solo.behavior = { fault: 'echo-key' };
    const res = await chat('solo');
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error.code).toBe('upstream_credentials_rejected');
    for (const leak of [KEY, 'SECRET', '127.0.0.1', 'internal', 'db-7']) expect(res.text).not.toContain(leak);
  });

  it('says why a target could not be reached without naming addresses or library errors', async () => {
    const res = await chat('refused');
    expect(res.status).toBe(502);
    expect(JSON.parse(res.text).error.message).toContain('connection refused');
    for (const leak of ['127.0.0.1', 'ECONNREFUSED', 'UND_ERR']) expect(res.text).not.toContain(leak);
  });

  it('never tries the same target twice in one request', async () => {
    solo.behavior = { status: 503 };
    const before = solo.requests.length;
    const res = await chat('solo');
    expect(res.status).toBe(502);
    expect(res.headers['x-sluice-attempts']).toBe('1');
    expect(solo.requests.length - before).toBe(1);
  });

  it('does not open the breaker for a request the provider rejects as invalid', async () => {
    flaky.behavior = { status: 400 };
    for (let i = 0; i < 3; i++) expect((await chat('breaker')).status).toBe(400);
    flaky.behavior = {};
    const started = performance.now();
    const res = await chat('breaker');
    expect(res.status).toBe(200);
    expect(res.headers['x-sluice-attempts']).toBe('1');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('does not open the breaker when clients hang up mid-stream', async () => {
    for (let i = 0; i < 3; i++) {
      const abort = new AbortController();
      const client = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 });
      const stream = await client.chat.completions.create(
        { model: 'breaker', stream: true, messages: [{ role: 'user', content: 'hi' }] },
        { signal: abort.signal },
      );
      // Hang up at the first chunk, long before the 40-token answer is complete.
      await (async () => {
        for await (const _ of stream) abort.abort();
      })().catch(() => {});
    }
    const res = await chat('breaker');
    expect(res.status).toBe(200);
    expect(res.headers['x-sluice-attempts']).toBe('1');
  });

  it('skips a target that cannot take a parameter and is served by the next one', async () => {
    bad.behavior = { status: 503 };
    const res = await chat('mixed', { seed: 7 });
    expect(res.status, res.text).toBe(200);
    expect(res.headers).toMatchObject({ 'x-sluice-ai-target': 'vllm', 'x-sluice-attempts': '2' });
    // The skipped target is named with the parameter it could not take; it cost no attempt.
    expect(res.headers['x-sluice-skipped']).toBe('claude=seed');
  });

  it('answers 400 naming the parameter when no target can take it', async () => {
    const res = await chat('claude-only', { seed: 7 });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatchObject({ code: 'unsupported_parameter', param: 'seed' });
    expect(res.headers['x-sluice-attempts']).toBe('0');
  });

  it('charges answers that come without usage, counting them locally, without stalling the event loop', async () => {
    good.behavior = { omitUsage: true, replyTokens: 60 };
    const metrics = () => scrapeMetrics(gw.adminPort);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++)
      statuses.push((await chat('nousage', {}, { 'x-consumer': 'free-rider' })).status);
    // Settlement waits for the local count (the tokenizer loads in a worker meanwhile).
    await expect
      .poll(async () => sumOf(await metrics(), 'sluice_budget_reservations_in_flight'), { timeout: 10_000 })
      .toBe(0);
    delay.disable();
    const served = statuses.filter((s) => s === 200).length;
    expect(served).toBeGreaterThan(0);
    expect(served).toBeLessThan(40);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - served);
    const samples = await metrics();
    expect(
      sumOf(samples, 'sluice_ai_locally_counted_requests_total', { sluice_ai_backend: 'default/nousage' }),
    ).toBe(served);
    // About 60 output tokens each were charged, not the 1-token estimate: the budget is gone.
    expect(sumOf(samples, 'sluice_budget_consumed_total', { consumer: 'free-rider' })).toBeGreaterThan(
      60 * served,
    );
    expect((await chat('nousage', {}, { 'x-consumer': 'free-rider' })).status).toBe(429);
    // Loading the tokenizer happens off the main thread: no pause anywhere near its load time.
    expect(delay.max / 1e6).toBeLessThan(250);
  });
});
