import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTERS } from '../../proxy/src/ai/providers/registry.ts';
import { waitFor } from '../cluster/sluice-process.ts';
import { budgetPolicyYaml } from '../support/ai-yaml.ts';
import type { TestGateway } from '../support/gateway.ts';
import { startHostileGateway } from '../support/hostile-gateway.ts';
import { scrapeMetrics, sumOf } from '../support/prometheus-text.ts';
import { startTwoProviderGateway } from '../support/two-provider-gateway.ts';

const BUDGET = budgetPolicyYaml('everyone', [
  '{name: requests, per: Consumer, measure: Requests, amount: 100000, window: Day}',
  '{name: tokens, per: Consumer, measure: TotalTokens, amount: 100000000, window: Day}',
]);

/** Every AI request ends in an answer, and every budget reservation is settled or given back. */
describe('malformed and failing AI requests', () => {
  let setup: Awaited<ReturnType<typeof startTwoProviderGateway>>;
  let gw: TestGateway;
  beforeAll(async () => {
    setup = await startTwoProviderGateway(BUDGET);
    gw = setup.gw;
  });
  afterAll(async () => {
    await setup?.close();
  });

  const post = async (body: string, consumer = 'fuzz') => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-consumer': consumer },
      body,
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    const text = await res.body.text();
    return { status: res.statusCode, text, json: () => JSON.parse(text) };
  };
  const inFlight = async () =>
    sumOf(await scrapeMetrics(gw.adminPort), 'sluice_budget_reservations_in_flight');

  const cases: [string, string, string, string | undefined][] = [
    ['messages [null, 5]', 'gpt', '{"messages":[null,5]}', '/messages/0'],
    [
      'a null content part (named by its own pointer)',
      'gpt',
      '{"messages":[{"role":"user","content":[null]}]}',
      '/messages/0/content/0',
    ],
    [
      'content as an object (Anthropic target)',
      'claude',
      '{"messages":[{"role":"user","content":{"a":1}}]}',
      '/messages/0/content',
    ],
    [
      'tools that are not an array (Anthropic target)',
      'claude',
      '{"messages":[{"role":"user","content":"hi"}],"tools":"x"}',
      '/tools',
    ],
    ['messages as a string', 'gpt', '{"messages":"hi"}', '/messages'],
    ['no messages at all', 'gpt', '{"messages":[]}', '/messages'],
    ['a role that is a number', 'claude', '{"messages":[{"role":7,"content":"hi"}]}', '/messages/0/role'],
    [
      'max_tokens as a string',
      'gpt',
      '{"messages":[{"role":"user","content":"hi"}],"max_tokens":"9"}',
      '/max_tokens',
    ],
    [
      'tool call arguments that are not text',
      'claude',
      '{"messages":[{"role":"assistant","tool_calls":[{"id":"1","function":{"name":"f","arguments":{}}}]}]}',
      '/messages/0/tool_calls/0/function/arguments',
    ],
  ];
  for (const [what, model, json, pointer] of cases) {
    it(`answers ${what} with 400 naming ${pointer}`, async () => {
      const body = `{"model":"${model}",${json.slice(1)}`;
      const res = await post(body);
      expect(res.status, res.text).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'invalid_request', param: pointer });
    });
  }

  it('answers a body nested 12,000 deep with 400 at once', async () => {
    const deep = `{"model":"claude","messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(12_000)}${']'.repeat(12_000)}}`;
    const res = await post(deep);
    expect(res.status).toBe(400);
    expect(res.json().error.message).toContain('nested deeper than 64');
  });

  it('answers a JSON array body with 400', async () => {
    expect((await post('[1,2]')).status).toBe(400);
  });

  it('turns an unexpected exception into a 500 and gives the reservation back', async () => {
    const original = ADAPTERS.OpenAI.request;
    ADAPTERS.OpenAI.request = () => {
      throw new Error('injected fault');
    };
    try {
      const res = await post('{"model":"gpt","messages":[{"role":"user","content":"hi"}]}');
      expect(res.status).toBe(500);
      expect(res.json().error.code).toBe('internal_error');
    } finally {
      ADAPTERS.OpenAI.request = original;
    }
    expect(await inFlight()).toBe(0);
    // Nothing of the failed request was charged: the next one sees the whole request budget left but itself.
    const ok = await post('{"model":"gpt","messages":[{"role":"user","content":"hi"}]}', 'fresh-after-fault');
    expect(ok.status).toBe(200);
    expect(await inFlight()).toBe(0);
  });
});

describe('shutdown with requests in flight', () => {
  it('turns unready, then cuts hung requests at the drain deadline and exits', async () => {
    const gw = await startHostileGateway(['--drain-timeout', '1']);
    try {
      gw.fake.behavior.hang = true;
      const hung = request(`${gw.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model":"m","messages":[{"role":"user","content":"hi"}]}',
      }).then(
        (r) => r.statusCode,
        () => 'cut',
      );
      await waitFor(() => gw.fake.requests.length === 1, 'the request to reach the provider');
      const exited = new Promise<number | null>((r) => gw.proc.child.once('exit', (code) => r(code)));
      const started = performance.now();
      gw.proc.child.kill('SIGTERM');
      await waitFor(async () => {
        const res = await request(`http://127.0.0.1:${gw.adminPort}/readyz`).catch(() => undefined);
        const body = res ? await res.body.text() : '';
        return res?.statusCode === 503 && body.includes('"draining":true');
      }, '/readyz to say draining');
      expect(await hung).toBe('cut');
      expect(await exited).toBe(0);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await gw.close();
    }
  });
});
