import type { ServerResponse } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { AIOperation } from '../client-api/operations.ts';
import { writeError } from '../errors/render.ts';
import type { Caller } from '../identity/identify.ts';
import type { BudgetMetrics } from '../metrics/budget-metrics.ts';
import type { GenAIMetrics } from '../metrics/genai-metrics.ts';
import type { GuardMetrics } from '../metrics/guard-metrics.ts';
import type { ObservedRequest } from '../telemetry/request-telemetry.ts';
import type { AIContext } from './ai-context.ts';
import type { CompiledAIBackend } from './compiled-backend.ts';
import { type FormPart, textBytes } from './form-body.ts';
import { handleAIRequest } from './handle-ai-request.ts';
import { checkRequestShape } from './request-shape.ts';
import { admit } from './stages/admit.ts';
import { guardPrompt } from './stages/guard-prompt.ts';
import { identifyCaller } from './stages/identify-caller.ts';
import type { StageResult } from './stages/stage.ts';

/** An AI request body: the bytes received, what they parse to, and whether both are the same request. */
export interface AIBody {
  raw: Buffer;
  value: Record<string, unknown>;
  /** `raw` reads as `value` to every parser and is the request `value` is (see JsonBody). */
  unambiguous: boolean;
  /** A multipart request's parts; `value` holds its text fields. */
  form?: FormPart[] | undefined;
}

export interface ServeAIInput {
  op: AIOperation;
  body: AIBody;
  backend: CompiledAIBackend;
  /** The caller the route's SecurityPolicy authenticated; then TokenRateLimitPolicy identity is not consulted. */
  caller: Caller | undefined;
  /** The matched route's name: what budgets and guards are scoped by. */
  routeName: string;
  request: FastifyRequest;
  response: ServerResponse;
  started: number;
  /** Credentials, identity, budgets and guards from the same snapshot the route was matched in. */
  ai: AIContext;
  observed: ObservedRequest | undefined;
  /** The target that must serve it (it holds the stored response this request continues). */
  pinnedTarget?: string | undefined;
  options: { genai: GenAIMetrics; budgets: BudgetMetrics; guards: GuardMetrics };
}

/**
 * One AI request through its stages, each a module with a typed input and output: shape check →
 * identity (and the budgets that apply) → request guards → admission on an estimate → attempts with
 * failover (response guards mask what streams back) → settlement with the provider-reported usage,
 * or a full refund when nothing was served. A stage that refuses ends the request with its catalog
 * error, rendered here.
 */
export async function serveAI(input: ServeAIInput): Promise<void> {
  const { response, body, backend, ai, op } = input;
  const answered = <T>(result: StageResult<T>): result is Extract<StageResult<T>, { ok: false }> => {
    if (!result.ok) writeError(response, result.refusal.code, result.refusal.detail);
    return !result.ok;
  };
  const shape = checkRequestShape(op, body.value);
  if (shape) return writeError(response, 'invalid_request', { message: shape.message, param: shape.pointer });

  const headers = input.request.raw.headers;
  const budgetRequest = {
    routeName: input.routeName,
    aiBackend: backend.config.name,
    model: typeof body.value.model === 'string' ? body.value.model : '',
    headers,
  };
  const identified = await identifyCaller(ai, budgetRequest, input.options.budgets, input.caller);
  if (answered(identified)) return;
  const { caller, limits } = identified.value;
  input.observed?.span?.setAttributes({ 'sluice.consumer': caller.consumer, 'sluice.team': caller.team });

  const guards = ai.guards.forRoute(input.routeName);
  const guarded = await guardPrompt(
    ai,
    guards,
    { op, body: body.value, caller },
    { metrics: input.options.guards, log: input.request.log },
  );
  if (answered(guarded)) {
    input.observed?.span?.addEvent('sluice.guard.rejected');
    return;
  }
  const verbatim = body.unambiguous && !guarded.value.masked ? body.raw : undefined;
  if (op === 'responses' && guards.responseMaskers.length > 0)
    return writeError(response, 'unsupported_operation', {
      message:
        'This Responses request needs the Responses API of the provider itself (stored state or built-in tools), whose answers PromptGuard cannot mask; this route masks answers.',
    });

  const admitted = await admit(
    ai,
    // A form is estimated by its text, not by the audio or image it carries.
    {
      ...budgetRequest,
      caller,
      bodyBytes: body.form ? textBytes(body.value) : body.raw.length,
      body: body.value,
    },
    backend,
    limits,
  );
  if (limits.length > 0)
    input.observed?.span?.addEvent('sluice.budget', {
      'sluice.budget.decision': admitted.ok ? 'admitted' : admitted.refusal.code,
      'sluice.budget.count': limits.length,
    });
  if (answered(admitted)) return;
  const { reservations } = admitted.value;
  for (const [name, value] of Object.entries(admitted.value.headers)) response.setHeader(name, value);

  let settled = false;
  try {
    const settlement = await handleAIRequest({
      op,
      body: body.value,
      verbatim,
      backend,
      pinnedTarget: input.pinnedTarget,
      form: body.form,
      response,
      started: input.started,
      secrets: ai.secrets,
      metrics: input.options.genai,
      log: input.request.log,
      caller,
      responseMaskers: guards.responseMaskers,
      observed: input.observed,
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
