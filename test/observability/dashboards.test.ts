import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardJson } from '../../tools/dashboards/grafana-model.ts';
import { renderDashboards } from '../../tools/dashboards/render-dashboards.ts';
import { DASHBOARDS } from '../../tools/dashboards/sluice-dashboards.ts';
import { waitFor } from '../cluster/sluice-process.ts';
import { aiBackendYaml, aiRuleYaml, httpRouteYaml } from '../support/ai-yaml.ts';
import { type RunningFake, startFake } from '../support/fake-providers.ts';
import { gatewayYaml, startGateway, type TestGateway } from '../support/gateway.ts';
import { freePort } from '../support/ports.ts';
import { startPrometheus, type TestPrometheus } from '../support/prometheus.ts';

const PRICE = { input: 2.5, cached: 1.25, output: 10 };
/** Who sends what: consumer → team. `greedy` exceeds its request budget and gets 429s. */
const CONSUMERS = { alice: 'ml', bob: 'ml', carol: 'web', greedy: 'web' } as const;

const policyYaml = `---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: budgets, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  identity: {trustedHeaders: {consumer: x-consumer, team: x-team}}
  limits:
    - {name: per-consumer-requests, per: Consumer, measure: Requests, amount: 6, window: Hour}
    - {name: per-team-usd, per: Team, measure: CostUSD, amount: 100, window: Month}
---
apiVersion: sluice.dev/v1alpha1
kind: PromptGuard
metadata: {name: pii, namespace: default}
spec:
  request: {builtins: [{detector: Email, action: Reject}]}
`;

/**
 * Every panel query of the dashboards as shipped (the JSON Grafana loads, built by the Foundation
 * SDK), with Grafana's variables set as a test run needs them.
 */
function panelQueries(): { dashboard: string; panel: string; expr: string }[] {
  return [...renderDashboards().values()].flatMap((text) => {
    const board = JSON.parse(text) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    return board.panels.flatMap((p) =>
      p.targets.map((t) => ({
        dashboard: board.title,
        panel: p.title,
        expr: t.expr
          .replaceAll('$__rate_interval', '30s')
          .replaceAll('$__range', '1h')
          .replaceAll('$team', '.*'),
      })),
    );
  });
}

describe('Grafana dashboards against a real Prometheus scraping a live proxy', () => {
  let primary: RunningFake;
  let secondary: RunningFake;
  let gw: TestGateway;
  let prom: TestPrometheus;
  /** Expected USD by team, from the usage each response reported and the configured prices. */
  const expected: Record<string, number> = {};

  beforeAll(async () => {
    primary = await startFake({ name: 'primary', behavior: { cachedTokens: 2, replyTokens: 7 } });
    secondary = await startFake({ name: 'secondary', behavior: { cachedTokens: 1, replyTokens: 4 } });
    const port = await freePort();
    const pricing = `  pricing: [{model: gpt-4o-mini, inputPerMillion: ${PRICE.input}, cachedInputPerMillion: ${PRICE.cached}, outputPerMillion: ${PRICE.output}}]\n`;
    gw = await startGateway(port, {
      'gateway.yaml': gatewayYaml(port),
      'ai.yaml':
        aiBackendYaml(
          'chat',
          ['gpt-4o-mini'],
          [
            { name: 'primary', provider: 'OpenAI', url: `${primary.url}/v1`, priority: 0 },
            { name: 'secondary', provider: 'OpenAI', url: `${secondary.url}/v1`, priority: 1 },
          ],
          pricing,
        ) + httpRouteYaml(aiRuleYaml('chat', { guard: 'pii' })),
      'policy.yaml': policyYaml,
    });
    prom = await startPrometheus([`127.0.0.1:${gw.adminPort}`]);
    // Traffic starts after Prometheus has the proxy's first scrape and lasts several scrapes, so rates
    // see counters move, as they would in production.
    await waitFor(
      async () => (await prom.query('sluice_config_reloads_total')).length > 0,
      'the first scrape',
      15_000,
    );

    const client = (consumer: keyof typeof CONSUMERS) =>
      new OpenAI({
        apiKey: 'k',
        baseURL: `${gw.url}/v1`,
        maxRetries: 0,
        defaultHeaders: { 'x-consumer': consumer, 'x-team': CONSUMERS[consumer] },
      });
    const charge = (
      team: string,
      u: {
        prompt_tokens: number;
        completion_tokens: number;
        prompt_tokens_details?: { cached_tokens?: number } | null;
      },
    ) => {
      const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
      expected[team] =
        (expected[team] ?? 0) +
        ((u.prompt_tokens - cached) * PRICE.input +
          cached * PRICE.cached +
          u.completion_tokens * PRICE.output) /
          1e6;
    };
    for (const consumer of Object.keys(CONSUMERS) as (keyof typeof CONSUMERS)[]) {
      const team = CONSUMERS[consumer];
      const requests = consumer === 'greedy' ? 9 : 3;
      for (let i = 0; i < requests; i++) {
        await new Promise((r) => setTimeout(r, 120));
        // Every third request finds the primary failing, so the secondary answers (a failover).
        primary.behavior.status = i % 3 === 2 ? 500 : undefined;
        try {
          if (i % 2 === 0) {
            const r = await client(consumer).chat.completions.create({
              model: 'gpt-4o-mini',
              messages: [{ role: 'user', content: `hello number ${i}` }],
            });
            charge(team, r.usage!);
          } else {
            const stream = await client(consumer).chat.completions.create({
              model: 'gpt-4o-mini',
              messages: [{ role: 'user', content: `stream number ${i}` }],
              stream: true,
              stream_options: { include_usage: true },
            });
            for await (const chunk of stream) if (chunk.usage) charge(team, chunk.usage);
          }
        } catch (err) {
          expect((err as { status?: number }).status, `${consumer} #${i}`).toBe(429);
        }
      }
    }
    primary.behavior.status = undefined;
    // A prompt the guard refuses, and a config the proxy refuses, so those panels have something.
    await expect(
      client('alice').chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'mail me at a@b.example' }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    await gw.write('broken.yaml', 'kind: Nonsense\n');
    await gw.write('broken.yaml', '# fixed\n');
    // Scrapes after the last request, so every counter is in Prometheus at its final value.
    const last = Date.now() / 1000;
    await waitFor(
      async () =>
        Number((await prom.query('max(timestamp(sluice_config_reloads_total))'))[0]?.value[1] ?? 0) >
        last + 2,
      'two scrapes after the traffic',
      15_000,
    );
  }, 120_000);

  afterAll(async () => {
    await prom?.close();
    await gw?.close();
    await primary?.close();
    await secondary?.close();
  });

  it('ships exactly the JSON the dashboard spec renders (npm run generate:dashboards)', () => {
    for (const [file, text] of renderDashboards())
      expect(
        readFileSync(join(import.meta.dirname, '..', '..', 'charts', 'sluice', 'dashboards', file), 'utf8'),
      ).toBe(text);
    expect((dashboardJson(DASHBOARDS['ai-spend']) as { title: string }).title).toBe('Sluice — AI spend');
  });

  it.each(panelQueries())('$dashboard / $panel returns data: $expr', async ({ expr }) => {
    const result = await prom.query(expr);
    expect(result.length).toBeGreaterThan(0);
    for (const s of result) expect(Number.isFinite(Number(s.value[1])), JSON.stringify(s)).toBe(true);
  });

  it('spend by team equals usage × price from every response, to the micro-dollar', async () => {
    const panel = DASHBOARDS['ai-spend'].panels.find((p) => p.title === 'Spend by team')!;
    const result = await prom.query(
      panel.queries[0]!.expr.replaceAll('$__range', '1h').replaceAll('$team', '.*'),
    );
    const byTeam = Object.fromEntries(result.map((s) => [s.metric.team!, Number(s.value[1])]));
    expect(Object.keys(byTeam).sort()).toEqual(['ml', 'web']);
    for (const team of ['ml', 'web']) expect(byTeam[team]).toBeCloseTo(expected[team]!, 9);
    const total = await prom.query(
      DASHBOARDS['ai-spend'].panels[0]!.queries[0]!.expr.replaceAll('$__range', '1h').replaceAll(
        '$team',
        '.*',
      ),
    );
    expect(Number(total[0]!.value[1])).toBeCloseTo(expected.ml! + expected.web!, 9);
  });

  it('shows the over-budget consumer rate limited and the failovers that happened', async () => {
    const limited = await prom.query('sum by (budget, reason) (sluice_ratelimit_rejections_total)');
    expect(limited.find((s) => s.metric.budget?.includes('per-consumer-requests'))?.value[1]).toBe('3');
    const failovers = await prom.query('sum(sluice_ai_failovers_total)');
    expect(Number(failovers[0]!.value[1])).toBeGreaterThan(0);
  });
});
