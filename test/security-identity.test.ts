import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from './support/ai-yaml.ts';
import { MINUTE_MS, roomInWindow } from './support/budget-windows.ts';
import { type RunningFake, startFake } from './support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from './support/gateway.ts';
import { freePort } from './support/ports.ts';
import { scrapeMetrics, sumOf } from './support/prometheus-text.ts';

/**
 * One identity: the caller a SecurityPolicy authenticates is the consumer and team budgets count, with
 * the official SDKs sending their own keys (OpenAI: Authorization Bearer; Anthropic: x-api-key).
 */
describe('SecurityPolicy identity is what budgets key on', () => {
  let fake: RunningFake;
  let gw: TestGateway;

  beforeAll(async () => {
    fake = await startFake({ name: 'llm' });
    const port = await freePort();
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'objects.yaml': `${aiBackendYaml('chat', [], [{ name: 'llm', provider: 'OpenAI', url: `${fake.url}/v1` }])}${httpRouteYaml(aiRuleYaml('chat'))}---
apiVersion: v1
kind: Secret
metadata: {name: keys, namespace: default, labels: {sluice.dev/team: research}}
stringData: {alice: sk-alice-1234567890, bob: sk-bob-1234567890}
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: keys, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ai}]
  apiKeyAuth:
    credentialRefs: [{name: keys}]
    extractFrom: [{headers: [authorization, x-api-key]}]
---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: per-consumer, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ai}]
  limits:
    - {name: two-per-minute, per: Consumer, measure: Requests, amount: 2, window: Minute}
`,
    });
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });

  const openai = (key: string) =>
    new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 }).chat.completions.create({
      model: 'gpt',
      messages: [{ role: 'user', content: 'hello' }],
    });

  it('refuses an unknown key before any budget or provider is touched', async () => {
    const before = fake.requests.length;
    await expect(openai('sk-mallory')).rejects.toMatchObject({ status: 401 });
    expect(fake.requests.length).toBe(before);
  });

  it('budgets each authenticated client on its own: alice runs out, bob does not', async () => {
    await roomInWindow(MINUTE_MS, 20_000);
    await openai('sk-alice-1234567890');
    await openai('sk-alice-1234567890');
    await expect(openai('sk-alice-1234567890')).rejects.toMatchObject({ status: 429 });
    await expect(openai('sk-bob-1234567890')).resolves.toBeDefined();
    const samples = await scrapeMetrics(gw.adminPort);
    expect(sumOf(samples, 'sluice_budget_consumed_total', { consumer: 'alice', team: 'research' })).toBe(2);
    expect(sumOf(samples, 'sluice_budget_consumed_total', { consumer: 'bob', team: 'research' })).toBe(1);
  });

  it('accepts the Anthropic SDK key header for the same client', async () => {
    const anthropic = new Anthropic({
      apiKey: 'sk-bob-1234567890',
      baseURL: `${gw.url}/anthropic`,
      maxRetries: 0,
    });
    // The route serves the OpenAI API: the point is the key, which passes (404 for the path, not 401).
    await expect(
      anthropic.messages.create({ model: 'gpt', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404 });
    const wrong = new Anthropic({ apiKey: 'sk-nobody', baseURL: `${gw.url}/anthropic`, maxRetries: 0 });
    await expect(
      wrong.messages.create({ model: 'gpt', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 401 });
  });
});
