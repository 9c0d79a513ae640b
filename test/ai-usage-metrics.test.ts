import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../tools/fake-llm/openai-format.ts';
import { aiBackendYaml, budgetPolicyYaml, modelRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { parseMetrics, scrapeMetrics, sumOf } from './support/prometheus-text.ts';

const GPT_PRICE = { input: 2.5, cached: 1.25, output: 10, reasoning: 12 };
const CLAUDE_PRICE = { input: 3, cached: 0.3, output: 15, reasoning: 15 };

/** The test's own cost formula, written from the pricing documentation, not imported from the proxy. */
function expectedCost(
  reported: Usage[],
  p: { input: number; cached: number; output: number; reasoning: number; written?: number },
): number {
  return reported.reduce(
    (usd, u) =>
      usd +
      ((u.prompt - u.cached - (u.cacheWrite ?? 0)) * p.input +
        u.cached * p.cached +
        (u.cacheWrite ?? 0) * (p.written ?? p.input) +
        (u.completion - u.reasoning) * p.output +
        u.reasoning * p.reasoning) /
        1e6,
    0,
  );
}

describe('token metrics and cost equal the provider-reported usage', () => {
  let gpt: RunningFake;
  let claude: RunningFake;
  let gw: TestGateway;
  let client: OpenAI;

  beforeAll(async () => {
    gpt = await startFake({ name: 'gpt', behavior: { cachedTokens: 3, reasoningTokens: 2, replyTokens: 9 } });
    claude = await startFake({ name: 'claude', behavior: { cachedTokens: 1, replyTokens: 5 } });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'backends.yaml':
        aiBackendYaml(
          'gpt',
          ['gpt-5'],
          [{ name: 'gpt', provider: 'OpenAI', url: `${gpt.url}/v1` }],
          `  pricing: [{model: gpt-5, inputPerMillion: ${GPT_PRICE.input}, cachedInputPerMillion: ${GPT_PRICE.cached}, outputPerMillion: ${GPT_PRICE.output}, reasoningPerMillion: ${GPT_PRICE.reasoning}}]\n`,
        ) +
        aiBackendYaml(
          'claude',
          ['claude-opus'],
          [{ name: 'claude', provider: 'Anthropic', url: `${claude.url}/v1` }],
          `  pricing: [{model: claude-opus, inputPerMillion: ${CLAUDE_PRICE.input}, cachedInputPerMillion: ${CLAUDE_PRICE.cached}, outputPerMillion: ${CLAUDE_PRICE.output}}]\n`,
        ),
      'routes.yaml': modelRouteYaml({ 'gpt-5': 'gpt', 'claude-opus': 'claude' }),
    });
    client = new OpenAI({ apiKey: 'k', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await gw.close();
    await Promise.all([gpt.close(), claude.close()]);
  });

  it('over a mixed run of streamed and non-streamed requests', async () => {
    for (let i = 0; i < 24; i++) {
      const model = i % 2 === 0 ? 'gpt-5' : 'claude-opus';
      const messages = [{ role: 'user' as const, content: `request number ${i} ${'word '.repeat(i)}` }];
      if (i % 3 === 0) {
        const stream = await client.chat.completions.create({ model, messages, stream: true });
        for await (const _ of stream) {
          // drain
        }
      } else {
        await client.chat.completions.create({ model, messages });
      }
    }
    const samples = parseMetrics((await send(`http://127.0.0.1:${gw.adminPort}/metrics`)).text);
    for (const [backend, fake, price] of [
      ['default/gpt', gpt, GPT_PRICE],
      ['default/claude', claude, CLAUDE_PRICE],
    ] as const) {
      const tokens = (type: string) =>
        sumOf(samples, 'gen_ai_client_token_usage_sum', {
          sluice_ai_backend: backend,
          gen_ai_token_type: type,
        });
      const reported = fake.reported;
      expect(reported).toHaveLength(12);
      expect(tokens('input')).toBe(reported.reduce((n, u) => n + u.prompt, 0));
      expect(tokens('output')).toBe(reported.reduce((n, u) => n + u.completion, 0));
      expect(tokens('cached_input')).toBe(reported.reduce((n, u) => n + u.cached, 0));
      expect(tokens('reasoning')).toBe(reported.reduce((n, u) => n + u.reasoning, 0));
      const cost = sumOf(samples, 'sluice_ai_cost_usd_total', { sluice_ai_backend: backend });
      expect(cost).toBeCloseTo(expectedCost(reported, price), 12);
      expect(cost).toBeGreaterThan(0);
    }
    expect(sumOf(samples, 'gen_ai_server_time_to_first_token_seconds_count')).toBe(8);
    expect(sumOf(samples, 'gen_ai_server_request_duration_seconds_count')).toBe(24);
  });
});

/**
 * The issue's "one ledger": every client surface (chat, legacy completions, embeddings, Responses,
 * Messages) against four provider kinds (OpenAI, Anthropic, Gemini, Bedrock), streamed and not, each
 * request failing over from a target that answers 503 first. Token counters, cost and both budgets
 * (tokens and USD) must equal the usage the providers reported × the prices, exactly. Prices are whole
 * dollars per million tokens, so every request costs a whole number of micro-dollars and the USD
 * budget (counted in micro-dollars) has nothing to round.
 */
describe('one usage ledger across five surfaces and four provider kinds, with failovers', () => {
  const AWS = { accessKeyId: 'AKIALEDGER', secretAccessKey: 'ledger-secret', region: 'us-east-1' };
  const BEDROCK_MODEL = 'amazon.nova-lite-v1:0';
  const PRICES = {
    gpt: { model: 'gpt-5', input: 2, cached: 1, output: 8, reasoning: 10 },
    // Cache writes cost more than plain input (Anthropic bills 1.25x): priced apart, or the ledger is short.
    claude: { model: 'claude-opus', input: 3, cached: 1, output: 15, reasoning: 15, written: 4 },
    gemini: { model: 'gemini-2.5-pro', input: 1, cached: 1, output: 4, reasoning: 4, written: 1 },
    bedrock: { model: BEDROCK_MODEL, input: 1, cached: 1, output: 5, reasoning: 5, written: 2 },
  } as const;
  type Name = keyof typeof PRICES;
  const fakes = {} as Record<Name, RunningFake>;
  let down: RunningFake;
  let gw: TestGateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fakes.gpt = await startFake({
      name: 'gpt',
      behavior: { cachedTokens: 3, reasoningTokens: 2, replyTokens: 9 },
    });
    fakes.claude = await startFake({
      name: 'claude',
      behavior: { cachedTokens: 1, cacheWriteTokens: 2, replyTokens: 5 },
    });
    fakes.gemini = await startFake({ name: 'gemini', behavior: { reasoningTokens: 1, replyTokens: 6 } });
    fakes.bedrock = await startFake({
      name: 'bedrock',
      aws: AWS,
      behavior: { cachedTokens: 2, cacheWriteTokens: 1, replyTokens: 7 },
    });
    down = await startFake({ name: 'down', behavior: { status: 503 } });
    const provider = { gpt: 'OpenAI', claude: 'Anthropic', gemini: 'Gemini', bedrock: 'Bedrock' } as const;
    const base = { gpt: '/v1', claude: '/v1', gemini: '/v1beta', bedrock: '' } as const;
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'keys.yaml': secretYaml('provider-keys', {
        aws: `[default]\\naws_access_key_id = ${AWS.accessKeyId}\\naws_secret_access_key = ${AWS.secretAccessKey}\\n`,
      }),
      'backends.yaml': (Object.keys(PRICES) as Name[])
        .map((name) => {
          const p = PRICES[name];
          return aiBackendYaml(
            name,
            [name],
            [
              // Always 503, tried first: every request below fails over once before it is served.
              { name: 'down', provider: 'OpenAI', url: `${down.url}/v1`, priority: 0 },
              {
                name: 'up',
                provider: provider[name],
                url: `${fakes[name].url}${base[name]}`,
                priority: 1,
                ...(name === 'bedrock'
                  ? {
                      secretKey: 'aws',
                      extra: `      model: "${BEDROCK_MODEL}"\n      bedrock: {region: us-east-1}\n`,
                    }
                  : { extra: `      model: ${p.model}\n` }),
              },
            ],
            `  cooldown: {consecutiveFailures: 1000, duration: 1s}\n  pricing: [{model: "${p.model}", inputPerMillion: ${p.input}, cachedInputPerMillion: ${p.cached}, ${'written' in p ? `cacheWriteInputPerMillion: ${p.written}, ` : ''}outputPerMillion: ${p.output}, reasoningPerMillion: ${p.reasoning}}]\n`,
          );
        })
        .join(''),
      'routes.yaml': modelRouteYaml({ gpt: 'gpt', claude: 'claude', gemini: 'gemini', bedrock: 'bedrock' }),
      'budgets.yaml': budgetPolicyYaml('ledger', [
        '{name: tokens, per: Consumer, measure: TotalTokens, amount: 100000000, window: Hour}',
        '{name: usd, per: Consumer, measure: CostUSD, amount: 1000, window: Hour}',
      ]),
    });
    const headers = { 'x-consumer': 'ledger' };
    openai = new OpenAI({ apiKey: 'k', baseURL: `${gw.url}/v1`, maxRetries: 0, defaultHeaders: headers });
    anthropic = new Anthropic({ apiKey: 'k', baseURL: gw.url, maxRetries: 0, defaultHeaders: headers });
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([...Object.values(fakes), down].map((f) => f?.close()));
  });

  it('counters, cost and budgets equal the provider-reported usage × price', async () => {
    const drain = async (events: AsyncIterable<unknown>) => {
      for await (const _ of events) {
        // drain
      }
    };
    for (const model of Object.keys(PRICES) as Name[]) {
      const messages = [{ role: 'user' as const, content: `a ledger question for ${model}` }];
      await openai.chat.completions.create({ model, messages });
      await drain(await openai.chat.completions.create({ model, messages, stream: true }));
      await openai.responses.create({ model, input: `a responses question for ${model}`, store: false });
      await drain(
        await openai.responses.create({ model, input: 'stream me a response', store: false, stream: true }),
      );
      await anthropic.messages.create({ model, max_tokens: 64, messages });
      await anthropic.messages.stream({ model, max_tokens: 64, messages }).finalMessage();
    }
    await openai.completions.create({ model: 'gpt', prompt: 'complete this legacy prompt' });
    await drain(
      await openai.completions.create({ model: 'gpt', prompt: 'and stream this one', stream: true }),
    );
    await openai.embeddings.create({ model: 'gpt', input: ['embed these four words', 'and these'] });

    const samples = await scrapeMetrics(gw.adminPort);
    let allTokens = 0;
    let allUsd = 0;
    for (const name of Object.keys(PRICES) as Name[]) {
      const reported = fakes[name].reported;
      expect(reported, name).toHaveLength(name === 'gpt' ? 9 : 6);
      const backend = `default/${name}`;
      const tokens = (type: string) =>
        sumOf(samples, 'gen_ai_client_token_usage_sum', {
          sluice_ai_backend: backend,
          gen_ai_token_type: type,
        });
      expect(tokens('input'), name).toBe(reported.reduce((n, u) => n + u.prompt, 0));
      expect(tokens('output'), name).toBe(reported.reduce((n, u) => n + u.completion, 0));
      expect(tokens('cached_input'), name).toBe(reported.reduce((n, u) => n + u.cached, 0));
      expect(tokens('reasoning'), name).toBe(reported.reduce((n, u) => n + u.reasoning, 0));
      expect(tokens('cache_write'), name).toBe(reported.reduce((n, u) => n + (u.cacheWrite ?? 0), 0));
      const usd = expectedCost(reported, PRICES[name]);
      expect(usd).toBeGreaterThan(0);
      expect(sumOf(samples, 'sluice_ai_cost_usd_total', { sluice_ai_backend: backend }), name).toBeCloseTo(
        usd,
        12,
      );
      allTokens += reported.reduce((n, u) => n + u.prompt + u.completion, 0);
      allUsd += usd;
    }
    expect(sumOf(samples, 'sluice_ai_failovers_total')).toBeGreaterThanOrEqual(27);
    expect(down.requests.length).toBe(27);
    const consumed = (budget: string) =>
      sumOf(samples, 'sluice_budget_consumed_total', {
        budget: `default/ledger/${budget}`,
        consumer: 'ledger',
      });
    expect(consumed('tokens')).toBe(allTokens);
    expect(consumed('usd')).toBeCloseTo(allUsd, 12);
  });
});
