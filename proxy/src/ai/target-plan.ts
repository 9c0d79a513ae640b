import { pickByWeight } from '../balance/weighted-pick.ts';
import type { AIOperation } from '../client-api/operations.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { type CompiledAIBackend, type CompiledTarget, upstreamModel } from './compiled-backend.ts';
import type { FormPart } from './form-body.ts';
import {
  type ProviderContext,
  UnsupportedParameterError,
  type UpstreamRequest,
} from './providers/adapter.ts';

/** A target that can take this request, with the upstream request already built for it. */
export interface PlannedTarget {
  target: CompiledTarget;
  ctx: ProviderContext;
  upstream: UpstreamRequest;
}

/** A target left out before any attempt, and why (shown in `x-sluice-skipped` and the logs). */
export interface SkippedTarget {
  target: CompiledTarget;
  param: string;
  message: string;
}

/** Which targets of a backend can serve one request, decided once before the first attempt. */
export interface TargetPlan {
  /** By priority group, lowest first, like the backend's groups; empty groups dropped. */
  groups: PlannedTarget[][];
  skipped: SkippedTarget[];
}

export interface PlanInput {
  backend: CompiledAIBackend;
  op: AIOperation;
  body: Record<string, unknown>;
  /** The client's bytes, while `body` is still what they parse to (see AIRequest.verbatim). */
  verbatim: Buffer | undefined;
  model: string;
  secrets: SecretStore;
  stream: boolean;
  clientWantsUsage: boolean;
  /** Only this target may serve (it holds the stored response the request continues). */
  pinnedTarget?: string | undefined;
  form?: readonly FormPart[] | undefined;
}

/**
 * Builds each target's upstream request up front: a target whose provider does not serve the
 * operation, or cannot express a parameter of this request (say `logprobs` for Anthropic), is left
 * out with its reason, so failover only ever moves between targets that can answer.
 */
export function planTargets(input: PlanInput): TargetPlan {
  const skipped: SkippedTarget[] = [];
  const groups = input.backend.groups
    .map((group) =>
      group.flatMap((target): PlannedTarget[] => {
        if (!target.adapter.supports(input.op)) return [];
        if (input.pinnedTarget !== undefined && target.config.name !== input.pinnedTarget) return [];
        const ctx: ProviderContext = {
          op: input.op,
          target: target.config,
          basePath: target.basePath,
          upstreamModel: upstreamModel(target.config, input.model),
          model: input.model,
          backend: input.backend.config.name,
          apiKey: input.secrets.get(target.config.credentials),
          stream: input.stream,
          clientWantsUsage: input.clientWantsUsage,
          ...(input.form ? { form: input.form } : {}),
        };
        try {
          return [{ target, ctx, upstream: target.adapter.request(input.body, ctx, input.verbatim) }];
        } catch (err) {
          if (!(err instanceof UnsupportedParameterError)) throw err;
          skipped.push({ target, param: err.param, message: err.message });
          return [];
        }
      }),
    )
    .filter((g) => g.length > 0);
  return { groups, skipped };
}

/**
 * The next target to try: a weighted pick among the available, untried targets of the first
 * priority group that has any. Weight 0 takes no traffic while a weighted peer is available, and
 * serves only when nothing else in its group can (the AIBackend's documented backup rule).
 */
export function nextTarget(
  plan: TargetPlan,
  tried: ReadonlySet<string>,
  now: number,
): PlannedTarget | undefined {
  for (const group of plan.groups) {
    const candidates = group.filter(
      (p) => p.target.health.available(now) && !tried.has(p.target.config.name),
    );
    if (candidates.length === 0) continue;
    return pickByWeight(candidates, (p) => p.target.config.weight) ?? candidates[0];
  }
  return undefined;
}

/** When the first cooling, untried target comes back (epoch ms), if any is cooling. */
export function earliestReturn(
  plan: TargetPlan,
  tried: ReadonlySet<string>,
  now: number,
): number | undefined {
  const times = plan.groups
    .flat()
    .filter((p) => p.target.health.openUntil > now && !tried.has(p.target.config.name))
    .map((p) => p.target.health.openUntil);
  return times.length > 0 ? Math.min(...times) : undefined;
}
