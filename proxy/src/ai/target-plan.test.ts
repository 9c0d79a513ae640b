import { describe, expect, it } from 'vitest';
import type { AIBackendConfig, AITarget } from '../config/ai-backend.ts';
import { SecretStore } from '../secrets/secret-store.ts';
import { PoolRegistry } from '../upstream/pool-registry.ts';
import { compileAIBackend } from './compiled-backend.ts';
import type { TargetHealth } from './target-health.ts';
import { nextTarget, planTargets } from './target-plan.ts';

function target(name: string, provider: AITarget['provider'], priority: number, weight = 1): AITarget {
  return {
    name,
    provider,
    baseUrl: `http://127.0.0.1:9/${name}`,
    priority,
    weight,
    modelMap: {},
    ...(provider === 'Anthropic' ? { anthropic: { version: '2023-06-01', defaultMaxTokens: 256 } } : {}),
  } as AITarget;
}

function backend(targets: AITarget[]) {
  const config = {
    name: 'default/b',
    targets,
    models: [],
    pricing: [],
    timeouts: { requestMs: 1000 },
    retry: { attempts: 3 },
    cooldown: { consecutiveFailures: 1, durationMs: 60_000 },
  } as unknown as AIBackendConfig;
  return compileAIBackend(config, new PoolRegistry(), new Map<string, TargetHealth>());
}

const plan = (b: ReturnType<typeof backend>, body: Record<string, unknown>) =>
  planTargets({
    backend: b,
    op: 'chat',
    body: { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body },
    verbatim: undefined,
    model: 'm',
    secrets: new SecretStore({}),
    stream: false,
    clientWantsUsage: false,
  });

describe('failover planning', () => {
  const mixed = backend([
    target('openai', 'OpenAI', 0),
    target('claude', 'Anthropic', 1),
    target('vllm', 'OpenAICompatible', 2),
  ]);

  it('leaves out a target that cannot take a parameter, with the parameter, before any attempt', () => {
    const p = plan(mixed, { seed: 7 });
    expect(p.groups.map((g) => g.map((t) => t.target.config.name))).toEqual([['openai'], ['vllm']]);
    expect(p.skipped.map((s) => [s.target.config.name, s.param])).toEqual([['claude', 'seed']]);
  });

  it('moves to the next eligible priority once a target was tried', () => {
    const p = plan(mixed, { seed: 7 });
    const now = Date.now();
    expect(nextTarget(p, new Set(), now)?.target.config.name).toBe('openai');
    expect(nextTarget(p, new Set(['openai']), now)?.target.config.name).toBe('vllm');
    expect(nextTarget(p, new Set(['openai', 'vllm']), now)).toBeUndefined();
  });

  it('skips a cooling target until it comes back', () => {
    const b = backend([target('a', 'OpenAI', 0), target('b', 'OpenAI', 1)]);
    const p = plan(b, {});
    const now = Date.now();
    b.groups[0]![0]!.health.failed(now);
    expect(nextTarget(p, new Set(), now)?.target.config.name).toBe('b');
    expect(nextTarget(p, new Set(), now + 61_000)?.target.config.name).toBe('a');
  });

  it('never sends traffic to weight 0 while a weighted peer is available, but uses it as the backup', () => {
    const b = backend([target('main', 'OpenAI', 0, 5), target('backup', 'OpenAI', 0, 0)]);
    const p = plan(b, {});
    const now = Date.now();
    const picks = new Set(
      Array.from({ length: 500 }, () => nextTarget(p, new Set(), now)?.target.config.name),
    );
    expect(picks).toEqual(new Set(['main']));
    expect(nextTarget(p, new Set(['main']), now)?.target.config.name).toBe('backup');
  });

  it('splits by weight within a priority', () => {
    const b = backend([target('x', 'OpenAI', 0, 3), target('y', 'OpenAI', 0, 1)]);
    const p = plan(b, {});
    let x = 0;
    for (let i = 0; i < 20_000; i++)
      if (nextTarget(p, new Set(), Date.now())?.target.config.name === 'x') x++;
    expect(x / 20_000).toBeGreaterThan(0.72);
    expect(x / 20_000).toBeLessThan(0.78);
  });
});
