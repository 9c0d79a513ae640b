import type { BudgetLimit } from '../../config/budgets.ts';
import type { BudgetRequest, Reservation } from '../../ratelimit/budget-enforcer.ts';
import type { AIContext } from '../ai-context.ts';
import { type CompiledAIBackend, upstreamModel } from '../compiled-backend.ts';
import { pass, refuse, type StageResult } from './stage.ts';

export interface Admitted {
  reservations: Reservation[];
  /** x-ratelimit-* headers for the answer. */
  headers: Record<string, string>;
}

/**
 * Stage "admission": reserves an estimate in every applicable budget (the documented cheap estimate:
 * request bytes / 4 for the prompt, plus the requested output), or refuses with the budget that is
 * used up and when it resets.
 */
export async function admit(
  ai: AIContext,
  request: Omit<BudgetRequest, 'estimate' | 'price'> & { bodyBytes: number; body: Record<string, unknown> },
  backend: CompiledAIBackend,
  limits: BudgetLimit[],
): Promise<StageResult<Admitted>> {
  if (limits.length === 0) return pass({ reservations: [], headers: {} });
  const admission = await ai.enforcer.admit(
    {
      ...request,
      estimate: { input: Math.ceil(request.bodyBytes / 4), output: maxOutputTokens(request.body) },
      price: priceEstimator(backend, request.model),
    },
    limits,
  );
  if (admission.kind === 'unavailable') return refuse('rate_limiter_unavailable');
  if (admission.kind === 'over_budget')
    return refuse('budget_exceeded', {
      message: `Budget ${admission.limit.name} (${admission.limit.measure} per ${admission.limit.window}) is used up.`,
      headers: {
        ...admission.headers,
        'retry-after': String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000))),
      },
    });
  return pass({ reservations: admission.reservations, headers: admission.headers });
}

function maxOutputTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  return typeof v === 'number' && v >= 0 ? v : undefined;
}

/** Price of the model the first target would be asked for: enough for an admission estimate. */
function priceEstimator(
  backend: CompiledAIBackend,
  model: string,
): (input: number, output: number) => number {
  const first = backend.groups[0]?.[0];
  const price = first ? backend.prices.get(upstreamModel(first.config, model)) : undefined;
  if (!price) return () => 0;
  return (input, output) => (input * price.inputPerMillion + output * price.outputPerMillion) / 1_000_000;
}
