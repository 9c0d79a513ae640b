import type { FastifyBaseLogger } from 'fastify';
import type { AIOperation } from '../../client-api/operations.ts';
import { runExternalChecks } from '../../guard/external-checks.ts';
import { guardRequest } from '../../guard/guard-request.ts';
import type { RouteGuards } from '../../guard/guard-set.ts';
import type { Caller } from '../../identity/identify.ts';
import type { GuardMetrics } from '../../metrics/guard-metrics.ts';
import type { AIContext } from '../ai-context.ts';
import { pass, refuse, type StageResult } from './stage.ts';

const UNCHANGED = { masked: false };

/**
 * Stage "request guards": the route's PromptGuards over the prompt (detectors, deny list; masking
 * edits `body` in place and says so, since the client's bytes no longer match it), then their
 * webhook and moderation checks. Findings are counted and logged by detector and place, never with
 * the text they matched.
 */
export async function guardPrompt(
  ai: AIContext,
  guards: RouteGuards,
  request: { op: AIOperation; body: Record<string, unknown>; caller: Caller },
  observe: { metrics: GuardMetrics; log: FastifyBaseLogger },
): Promise<StageResult<{ masked: boolean }>> {
  if (guards.all.length === 0) return pass(UNCHANGED);
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
  const result = { masked: verdict.findings.some((f) => f.action === 'Mask') };
  if (guards.external.length === 0) return pass(result);
  const outcome = await runExternalChecks(request.op, request.body, guards.external, {
    aiBackends: ai.aiBackends,
    secrets: ai.secrets,
  });
  // A webhook that masked edited `body` too: the client's bytes must not go upstream then.
  if (outcome.kind !== 'reject') return pass(outcome.masked > 0 ? { masked: true } : result);
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
