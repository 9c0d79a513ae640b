import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { AIOperation } from '../client-api/operations.ts';
import { writeError } from '../errors/render.ts';
import { runExternalChecks } from '../guard/external-checks.ts';
import { guardRequest } from '../guard/guard-request.ts';
import type { BudgetMetrics } from '../metrics/budget-metrics.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { GuardMetrics } from '../metrics/guard-metrics.ts';
import type { Reservation } from '../ratelimit/budget-enforcer.ts';
import type { AIContext } from './ai-context.ts';
import { type CompiledAIBackend, upstreamModel } from './compiled-backend.ts';
import { handleAIRequest } from './handle-ai-request.ts';
import { checkRequestShape } from './request-shape.ts';

export interface ServeAIInput {
  op: AIOperation;
  body: { raw: Buffer; value: Record<string, unknown> };
  backend: CompiledAIBackend;
  /** The matched route's name: what budgets and guards are scoped by. */
  routeName: string;
  request: FastifyRequest;
  response: ServerResponse;
  started: number;
  /** Credentials, identity, budgets and guards from the same snapshot the route was matched in. */
  ai: AIContext;
  options: { genai: GenAIMetrics; budgets: BudgetMetrics; guards: GuardMetrics };
}

/**
 * One AI request end to end: who is calling, which budgets apply, admission on an estimate, the
 * exchange with failover, then settlement with the provider-reported usage (or a full refund when
 * nothing was served).
 */
export async function serveAI(input: ServeAIInput): Promise<void> {
  const { response, body, backend } = input;
  const shape = checkRequestShape(input.op, body.value);
  if (shape) return writeError(response, 'invalid_request', { message: shape.message, param: shape.pointer });
  const ai = input.ai;
  const headers = input.request.raw.headers;
  const identity = await ai.identifier.identify(headers);
  if (!identity.ok) {
    input.options.budgets.unauthenticated.inc({ reason: identity.error });
    return writeError(
      response,
      identity.error,
      identity.reason ? { message: `The bearer token is not valid: ${identity.reason}.` } : {},
    );
  }
  const caller = identity.caller;
  const model = typeof body.value.model === 'string' ? body.value.model : '';
  const budgetRequest = {
    routeName: input.routeName,
    aiBackend: backend.config.name,
    model,
    headers,
    caller,
  };
  const limits = ai.enforcer.applicable(budgetRequest);
  if (!identity.authenticated && limits.some((l) => l.requireIdentity)) {
    input.options.budgets.unauthenticated.inc({ reason: 'missing_api_key' });
    return writeError(response, 'missing_api_key');
  }

  const guards = ai.guards.forRoute(input.routeName);
  if (guards.all.length > 0) {
    const verdict = guardRequest(input.op, body.value, guards.all);
    for (const f of verdict.findings) {
      input.options.guards.verdicts.inc({
        guard: f.guard,
        detector: f.detector,
        action: f.action,
        direction: 'request',
      });
      // The audit record says which detector fired and where, never the text it matched.
      input.request.log.info({ guardFinding: f, consumer: caller.consumer }, 'prompt guard finding');
    }
    if (verdict.kind === 'reject')
      return writeError(response, 'prompt_rejected', {
        status: verdict.guard.config.rejection.status,
        message: verdict.guard.config.rejection.message,
      });
    if (guards.external.length > 0) {
      const outcome = await runExternalChecks(input.op, body.value, guards.external, {
        aiBackends: ai.aiBackends,
        secrets: ai.secrets,
      });
      if (outcome.kind === 'reject') {
        const guard = outcome.guard.config;
        input.options.guards.verdicts.inc({
          guard: guard.name,
          detector: outcome.check,
          action: 'Reject',
          direction: 'request',
        });
        input.request.log.info(
          { guard: guard.name, check: outcome.check, reason: outcome.reason },
          'prompt guard rejection',
        );
        return writeError(response, 'prompt_rejected', {
          status: guard.rejection.status,
          message: guard.rejection.message,
        });
      }
    }
  }

  let reservations: Reservation[] = [];
  let settled = false;
  try {
    if (limits.length > 0) {
      const admission = await ai.enforcer.admit(
        {
          ...budgetRequest,
          // The documented cheap estimate: request bytes / 4 for the prompt, plus the requested output.
          estimate: { input: Math.ceil(body.raw.length / 4), output: maxOutputTokens(body.value) },
          price: priceEstimator(backend, model),
        },
        limits,
      );
      if (admission.kind === 'unavailable') return writeError(response, 'rate_limiter_unavailable');
      if (admission.kind === 'over_budget')
        return writeError(response, 'budget_exceeded', {
          message: `Budget ${admission.limit.name} (${admission.limit.measure} per ${admission.limit.window}) is used up.`,
          headers: {
            ...admission.headers,
            'retry-after': String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000))),
          },
        });
      for (const [name, value] of Object.entries(admission.headers)) response.setHeader(name, value);
      reservations = admission.reservations;
    }

    const settlement = await handleAIRequest({
      op: input.op,
      body: body.value,
      backend,
      response,
      started: input.started,
      secrets: ai.secrets,
      metrics: input.options.genai,
      log: input.request.log,
      caller,
      responseMaskers: guards.responseMaskers,
      onResponseMasked: (findings) => {
        for (const f of findings)
          input.options.guards.verdicts.inc({
            guard: f.detector.guard,
            detector: f.detector.name,
            action: 'Mask',
            direction: 'response',
          });
      },
    });
    if (settlement && reservations.length > 0) {
      await ai.enforcer.settle(reservations, caller, settlement.usage, settlement.costUsd);
      settled = true;
    }
  } finally {
    // Whatever failed on the way, nothing served means nothing charged: the estimate goes back.
    if (!settled && reservations.length > 0) await ai.enforcer.release(reservations);
  }
}

function maxOutputTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens;
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
