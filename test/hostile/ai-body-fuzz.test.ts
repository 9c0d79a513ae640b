import fc from 'fast-check';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetPolicyYaml } from '../support/ai-yaml.ts';
import type { TestGateway } from '../support/gateway.ts';
import { scrapeMetrics, sumOf } from '../support/prometheus-text.ts';
import { startTwoProviderGateway } from '../support/two-provider-gateway.ts';

/** Cases per run: a few seconds in `npm test`; `npm run test:fuzz` sets a long run. */
const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 150);

const POLICIES = `${budgetPolicyYaml('fuzz', [
  '{name: tokens, per: Consumer, measure: TotalTokens, amount: 1000000000, window: Day}',
])}---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: pii, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  roles: [user, system, tool, assistant]
  request:
    builtins: [{detector: Email, action: Mask}, {detector: CreditCard, action: Reject}]
  response: {mask: true}
`;

const OPERATIONS = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'];
const MODELS = ['gpt', 'gpt', 'claude', 'claude', 'unknown-model'];

/** JSON that looks like an AI request often enough to get deep into the pipeline, and often does not. */
const scalar = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const part = fc.oneof(
  fc.record(
    {
      type: fc.constantFrom('text', 'input_text', 'image_url', 'weird'),
      text: fc.oneof(fc.string(), scalar),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const message = fc.oneof(
  fc.record(
    {
      role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer', 'USER'), scalar),
      content: fc.oneof(fc.string(), fc.array(part, { maxLength: 4 }), scalar, fc.jsonValue({ maxDepth: 3 })),
      name: fc.oneof(fc.string(), scalar),
      tool_calls: fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.array(
          fc.record({
            id: fc.string(),
            function: fc.record({ name: fc.string(), arguments: fc.oneof(fc.string(), scalar) }),
          }),
        ),
      ),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const body = fc.record(
  {
    model: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...MODELS) }, { weight: 1, arbitrary: scalar }),
    messages: fc.oneof(fc.array(message, { maxLength: 5 }), fc.jsonValue({ maxDepth: 3 })),
    prompt: fc.oneof(fc.string(), fc.array(fc.string()), fc.jsonValue({ maxDepth: 3 })),
    input: fc.oneof(
      fc.string(),
      fc.array(fc.string()),
      fc.array(fc.integer()),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    stream: fc.oneof(fc.boolean(), scalar),
    stream_options: fc.oneof(fc.record({ include_usage: fc.oneof(fc.boolean(), scalar) }), scalar),
    max_tokens: fc.oneof(fc.integer({ min: -5, max: 50 }), scalar),
    tools: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 3 }), scalar),
    n: fc.oneof(fc.integer({ min: 0, max: 3 }), scalar),
    seed: fc.oneof(fc.integer(), scalar),
  },
  { requiredKeys: [] },
);
/** Sometimes not even JSON, or JSON of another kind. */
const payload = fc.oneof(
  { weight: 8, arbitrary: body.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string() },
);

describe('AI request bodies, fuzzed', () => {
  let setup: Awaited<ReturnType<typeof startTwoProviderGateway>>;
  let gw: TestGateway;
  const agent = new Agent({ connections: 8 });
  beforeAll(async () => {
    setup = await startTwoProviderGateway(POLICIES, 3);
    gw = setup.gw;
  });
  afterAll(async () => {
    await agent.close();
    await setup?.close();
  });

  it(`answers every one of ${RUNS} random bodies with a well-formed response and leaks no reservation`, async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...OPERATIONS), payload, async (path, text) => {
        const res = await request(`${gw.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-consumer': 'fuzz' },
          body: text,
          dispatcher: agent,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        const out = await res.body.text();
        seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1);
        // No crash, no 500 from a bug; provider and gateway errors have the catalog's shape.
        expect(res.statusCode, out).not.toBe(500);
        if (res.headers['content-type']?.toString().startsWith('text/event-stream')) return;
        const json = JSON.parse(out) as { error?: { message?: unknown; code?: unknown } };
        if (res.statusCode >= 400) expect(typeof json.error?.message, out).toBe('string');
      }),
      { numRuns: RUNS },
    );
    const metrics = () => scrapeMetrics(gw.adminPort);
    await expect
      .poll(async () => sumOf(await metrics(), 'sluice_budget_reservations_in_flight'), { timeout: 10_000 })
      .toBe(0);
    console.info(`fuzzed ${RUNS} bodies; statuses ${JSON.stringify(Object.fromEntries(seen))}`);
  }, 120_000);
});
