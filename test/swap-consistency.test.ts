import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, budgetPolicyYaml, httpRouteYaml, secretYaml } from './support/ai-yaml.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

/**
 * A config swap must never mix two configs in one request. Config A routes to AIBackend `alpha`
 * (with its credential), masks e-mail addresses in prompts and applies a budget; config B routes to
 * `beta` (with another credential) with neither. Each request can therefore tell which config served
 * it, part by part: the backend that answered, the key the provider received (a provider refuses a
 * wrong or missing one), whether its prompt was masked and whether budget headers came back.
 * Requests send their body in two writes, so a swap can land between arrival and the AI stage.
 */
const SWAPS = 200;
const CLIENTS = 4;
const PROMPT = 'Please write to ada@example.com about the report.';

function configA(alpha: RunningFake): string {
  return [
    secretYaml('provider-keys', { alpha: 'key-alpha' }),
    aiBackendYaml(
      'alpha',
      ['m'],
      [{ name: 'a', provider: 'OpenAI', url: `${alpha.url}/v1`, secretKey: 'alpha' }],
    ),
    httpRouteYaml(aiRuleYaml('alpha', { guard: 'mask-mail' })),
    `---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: mask-mail, namespace: default}
spec:
  request:
    builtins: [{detector: Email, action: Mask}]
`,
    budgetPolicyYaml('tokens', [
      '{name: day, per: Consumer, measure: TotalTokens, amount: 1000000000, window: Day}',
    ]),
  ].join('');
}

function configB(beta: RunningFake): string {
  return [
    secretYaml('provider-keys', { beta: 'key-beta' }),
    aiBackendYaml(
      'beta',
      ['m'],
      [{ name: 'b', provider: 'OpenAI', url: `${beta.url}/v1`, secretKey: 'beta' }],
    ),
    httpRouteYaml(aiRuleYaml('beta')),
  ].join('');
}

describe('config swaps under load', () => {
  let gw: TestGateway;
  let alpha: RunningFake;
  let beta: RunningFake;

  beforeAll(async () => {
    alpha = await startFake({ name: 'alpha', apiKey: 'key-alpha' });
    beta = await startFake({ name: 'beta', apiKey: 'key-beta' });
    const port = await freePort();
    gw = await startGateway(port, { 'gateway.yaml': gatewayYaml(port), 'ai.yaml': configA(alpha) });
  });
  afterAll(async () => {
    await gw?.close();
    await alpha?.close();
    await beta?.close();
  });

  it(`serves every request from one config while ${SWAPS} swaps happen`, async () => {
    const mismatches: string[] = [];
    const failures: string[] = [];
    const served = { alpha: 0, beta: 0 };
    let swapping = true;

    const body = Buffer.from(
      JSON.stringify({ model: 'm', messages: [{ role: 'user', content: PROMPT }], max_tokens: 5 }),
    );
    const client = async () => {
      while (swapping) {
        const res = await request(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-consumer': 'c1' },
          // Two writes with a turn of the event loop between: the request is routed on arrival and
          // reaches the AI stage only after the rest of its body, with a swap possibly in between.
          body: Readable.from(
            (async function* () {
              yield body.subarray(0, 10);
              await nextTurn();
              yield body.subarray(10);
            })(),
          ),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) {
          failures.push(`${res.statusCode} ${text.slice(0, 200)}`);
          continue;
        }
        const backend = String(res.headers['x-sluice-ai-backend']).split('/').at(-1);
        const budgeted = res.headers['x-ratelimit-limit-tokens'] !== undefined;
        if (backend === 'alpha') served.alpha++;
        else if (backend === 'beta') served.beta++;
        if ((backend === 'alpha') !== budgeted)
          mismatches.push(`${backend} answered, budget headers ${budgeted}`);
      }
    };

    const swaps = async () => {
      for (let i = 1; i <= SWAPS; i++) await gw.write('ai.yaml', i % 2 ? configB(beta) : configA(alpha));
      swapping = false;
    };
    await Promise.all([swaps(), ...Array.from({ length: CLIENTS }, client)]);

    // What each provider received says which guard and credential the request was served with.
    const prompts = (fake: RunningFake) =>
      fake.requests.map((r) => (r.body?.messages as { content: string }[] | undefined)?.[0]?.content);
    for (const p of prompts(alpha)) if (p === PROMPT) mismatches.push('alpha got an unmasked prompt');
    for (const p of prompts(beta)) if (p !== PROMPT) mismatches.push(`beta got a masked prompt: ${p}`);

    expect(failures).toEqual([]);
    expect(mismatches).toEqual([]);
    // Both configs really served traffic, so the checks above had something to check.
    expect(served.alpha).toBeGreaterThan(SWAPS / 4);
    expect(served.beta).toBeGreaterThan(SWAPS / 4);
    const metrics = await scrapeMetrics(gw.adminPort);
    expect(sumOf(metrics, 'sluice_config_reloads_total', { result: 'failure' })).toBe(0);
    expect(sumOf(metrics, 'sluice_config_reloads_total', { result: 'success' })).toBeGreaterThan(SWAPS);
  }, 120_000);
});
