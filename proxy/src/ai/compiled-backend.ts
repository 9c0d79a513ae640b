import type { AIBackendConfig, AITarget, ModelPrice } from '../config/ai-backend.ts';
import type { PoolRegistry, UpstreamEndpoint } from '../upstream/pool-registry.ts';
import type { ProviderAdapter } from './providers/adapter.ts';
import { ADAPTERS } from './providers/registry.ts';
import { TargetHealth } from './target-health.ts';

export interface CompiledTarget {
  config: AITarget;
  adapter: ProviderAdapter;
  endpoint: UpstreamEndpoint;
  basePath: string;
  health: TargetHealth;
}

export interface CompiledAIBackend {
  config: AIBackendConfig;
  /** Targets grouped by priority, lowest (tried first) first. */
  groups: CompiledTarget[][];
  /** Client-facing models served; empty means any. */
  models: ReadonlySet<string>;
  prices: ReadonlyMap<string, ModelPrice>;
  /**
   * Every target is OpenAI or Azure OpenAI: Responses API requests go to them as they are (full
   * fidelity, provider-side state) rather than translated to chat. OpenAI-compatible servers often
   * lack the endpoint, and a mixed backend must stay able to fail over to any of its targets.
   */
  speaksResponses: boolean;
}

/**
 * Prepares an AI backend for the hot path: adapters, pools, price lookups and target health. Health
 * survives config swaps for targets that keep their identity, so a reload does not forget a dead target.
 */
export function compileAIBackend(
  config: AIBackendConfig,
  pools: PoolRegistry,
  health: Map<string, TargetHealth>,
): CompiledAIBackend {
  const byPriority = new Map<number, CompiledTarget[]>();
  for (const t of config.targets) {
    const url = new URL(t.baseUrl);
    const healthKey = `${config.name}/${t.name}/${config.cooldown.consecutiveFailures}/${config.cooldown.durationMs}`;
    let h = health.get(healthKey);
    if (!h) {
      h = new TargetHealth(config.cooldown.consecutiveFailures, config.cooldown.durationMs);
      health.set(healthKey, h);
    }
    const compiled: CompiledTarget = {
      config: t,
      adapter: ADAPTERS[t.provider],
      endpoint: pools.forOrigin(url.origin),
      basePath: url.pathname.replace(/\/+$/, ''),
      health: h,
    };
    byPriority.set(t.priority, [...(byPriority.get(t.priority) ?? []), compiled]);
  }
  return {
    config,
    groups: [...byPriority.entries()].sort(([a], [b]) => a - b).map(([, targets]) => targets),
    models: new Set(config.models),
    prices: new Map(config.pricing.map((p) => [p.model, p])),
    speaksResponses: config.targets.every((t) => t.provider === 'OpenAI' || t.provider === 'AzureOpenAI'),
  };
}

/** The upstream model a target is asked for, given what the client asked for. */
export function upstreamModel(target: AITarget, requested: string): string {
  return target.model ?? target.modelMap[requested] ?? requested;
}
