import type { FastifyBaseLogger } from 'fastify';
import type { AIOperation } from '../../client-api/operations.ts';
import { runExternalChecks } from '../../guard/external-checks.ts';
import { guardRequest } from '../../guard/guard-request.ts';
import type { RouteGuards } from '../../guard/guard-set.ts';
import type { Caller } from '../../identity/identify.ts';
import type { GuardMetrics } from '../../metrics/guard-metrics.ts';
import type { AIContext } from '../ai-context.ts';
import { pass, refuse, type StageResult } from './stage.ts';

/**
 * Stage "request guards": the route's PromptGuards over the prompt (detectors, deny list; masking
 * edits `body` in place), then their webhook and moderation checks. Findings are counted and
 * logged by detector and place, never with the text they matched.
 */
export async function guardPrompt(
  ai: AIContext,
  guards: RouteGuards,
  request: { op: AIOperation; body: Record<string, unknown>; caller: Caller },
  observe: { metrics: GuardMetrics; log: FastifyBaseLogger },
): Promise<StageResult<void>> {
  if (guards.all.length === 0) return pass(undefined);
  const { metrics, log } = observe;
  const verdict = await guardRequest(request.op, request.body, guards.all, guards.byRole);
  if (verdict.kind === 'invalid')
    return refuse('invalid_request', { message: verdict.problem.message, param: verdict.problem.pointer });
  for (const f of verdict.findings) {
    metrics.verdicts.inc({ guard: f.guard, detector: f.detector, action: f.action, direction: 'request' });
    log.info({ guardFinding: f, consumer: request.caller.consumer }, 'prompt guard finding');
  }
  if (verdict.kind === 'reject')
    return refuse('prompt_rejected', {
      status: verdict.guard.config.rejection.status,
      message: verdict.guard.config.rejection.message,
    });
  if (guards.external.length === 0) return pass(undefined);
  const outcome = await runExternalChecks(request.op, request.body, guards.external, {
    aiBackends: ai.aiBackends,
    secrets: ai.secrets,
  });
  if (outcome.kind !== 'reject') return pass(undefined);
  const guard = outcome.guard.config;
  metrics.verdicts.inc({
    guard: guard.name,
    detector: outcome.check,
    action: 'Reject',
    direction: 'request',
  });
  log.info({ guard: guard.name, check: outcome.check, reason: outcome.reason }, 'prompt guard rejection');
  return refuse('prompt_rejected', { status: guard.rejection.status, message: guard.rejection.message });
}
