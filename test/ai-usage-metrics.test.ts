import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../tools/fake-llm/openai-format.ts';
import { aiBackendYaml, modelRouteYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { send } from './support/http.ts';
import { freePort } from './support/ports.ts';
import { parseMetrics, sumOf } from './support/prometheus-text.ts';

const GPT_PRICE = { input: 2.5, cached: 1.25, output: 10, reasoning: 12 };
const CLAUDE_PRICE = { input: 3, cached: 0.3, output: 15, reasoning: 15 };

/** The test's own cost formula, written from the pricing documentation, not imported from the proxy. */
function expectedCost(reported: Usage[], p: typeof GPT_PRICE): number {
  return reported.reduce(
    (usd, u) =>
      usd +
      ((u.prompt - u.cached) * p.input +
        u.cached * p.cached +
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
