import type { IncomingHttpHeaders } from 'node:http';
import type { BudgetLimit } from '../../config/budgets.ts';
import type { Caller } from '../../identity/identify.ts';
import type { BudgetMetrics } from '../../metrics/budget-metrics.ts';
import type { AIContext } from '../ai-context.ts';
import { pass, refuse, type StageResult } from './stage.ts';

export interface IdentifiedCaller {
  caller: Caller;
  /** The budgets this request falls under (by route, AI backend and the caller's attributes). */
  limits: BudgetLimit[];
}

/**
 * Stage "identity": who is calling and which budgets apply to them; a budget that requires an
 * identity refuses anonymous callers here. A caller the route's SecurityPolicy authenticated is the
 * one identity; only without one are TokenRateLimitPolicy's own API keys, JWT or trusted headers read.
 */
export async function identifyCaller(
  ai: AIContext,
  request: { headers: IncomingHttpHeaders; routeName: string; aiBackend: string; model: string },
  metrics: BudgetMetrics,
  authenticated: Caller | undefined,
): Promise<StageResult<IdentifiedCaller>> {
  const identity = authenticated
    ? { ok: true as const, caller: authenticated, authenticated: true }
    : await ai.identifier.identify(request.headers);
  if (!identity.ok) {
    metrics.unauthenticated.inc({ reason: identity.error });
    return refuse(
      identity.error,
      identity.reason ? { message: `The bearer token is not valid: ${identity.reason}.` } : undefined,
    );
  }
  const caller = identity.caller;
  const limits = ai.enforcer.applicable({ ...request, caller });
  if (!identity.authenticated && limits.some((l) => l.requireIdentity)) {
    metrics.unauthenticated.inc({ reason: 'missing_api_key' });
    return refuse('missing_api_key');
  }
  return pass({ caller, limits });
}
