import type { ServerResponse } from 'node:http';
import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { GENAI_OPERATION } from '../client-api/operations.ts';
import type { ErrorCode } from '../errors/catalog.ts';
import { writeError } from '../errors/render.ts';
import { maskResponse } from '../guard/guard-request.ts';
import { streamPayloadMasker } from '../guard/stream-payload-masker.ts';
import { propagate } from '../telemetry/request-telemetry.ts';
import { timerMs } from '../timers/timer-ms.ts';
import type { AIRequest } from './ai-request.ts';
import { type AttemptOutcome, attempt } from './attempt.ts';
import type { CompiledAIBackend, CompiledTarget } from './compiled-backend.ts';
import type { UpstreamRequest } from './providers/adapter.ts';
import { recordExchange, type Settlement } from './record-exchange.ts';
import { type HeaderRecord, sendJson, sendText } from './respond.ts';
import {
  earliestReturn,
  nextTarget,
  type PlannedTarget,
  planTargets,
  type TargetPlan,
} from './target-plan.ts';

/** How an operation is named to a client (the API path's own words). */
const OPERATION_NAMES: Record<AIRequest['op'], string> = {
  chat: 'chat completions',
  completions: 'completions',
  embeddings: 'embeddings',
  moderations: 'moderations',
  images: 'image generation',
  responses: 'Responses API with stored state or built-in tools',
  image_edits: 'image edits',
  transcriptions: 'audio transcriptions',
  translations: 'audio translations',
  speech: 'speech',
  rerank: 'rerank',
};
/**
 * Serves one OpenAI-compatible request from an AI backend: priority groups in order, weighted picks
 * inside a group, failover on connect errors, timeouts before the first byte, 429 and 5xx; never once a
 * byte has reached the client. Answers say which backend and target served and after how many attempts.
 */
export async function handleAIRequest(req: AIRequest): Promise<Settlement | undefined> {
  const { backend, body, response } = req;
  const model = body.model;
  if (typeof model !== 'string' || model === '') {
    writeError(response, 'missing_model', { param: 'model' });
    return undefined;
  }
  if (backend.models.size > 0 && !backend.models.has(model)) {
    writeError(response, 'model_not_found', {
      message: `The model '${model}' is not served by this route.`,
      param: 'model',
    });
    return undefined;
  }
  // Only text generation streams here (streamed image generation is not offered).
  const stream =
    body.stream === true && (req.op === 'chat' || req.op === 'completions' || req.op === 'responses');
  const clientWantsUsage =
    (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const plan = planTargets({
    backend,
    op: req.op,
    body,
    verbatim: req.verbatim,
    model,
    secrets: req.secrets,
    stream,
    clientWantsUsage,
    pinnedTarget: req.pinnedTarget,
    form: req.form,
  });
  for (const s of plan.skipped)
    req.log.info(
      { backend: backend.config.name, target: s.target.config.name, param: s.param },
      'AI target skipped: it cannot take a parameter',
    );
  const skippedHeader: HeaderRecord =
    plan.skipped.length > 0
      ? { 'x-sluice-skipped': plan.skipped.map((s) => `${s.target.config.name}=${s.param}`).join(', ') }
      : {};
  if (plan.groups.length === 0 && req.pinnedTarget !== undefined) {
    writeError(response, 'response_not_stored', {
      message: `The target that stored the previous response (${req.pinnedTarget}) is not in AI backend ${backend.config.name} any more.`,
      param: 'previous_response_id',
    });
    return undefined;
  }
  if (plan.groups.length === 0 && plan.skipped.length === 0) {
    // No target's provider serves this operation at all (embeddings on an Anthropic-only backend):
    // a client error naming it, not a 503 that invites retries.
    const providers = [...new Set(backend.groups.flat().map((t) => t.config.provider))].join(', ');
    writeError(response, 'unsupported_operation', {
      message: `The ${OPERATION_NAMES[req.op]} operation is not served by AI backend ${backend.config.name} (providers: ${providers}).`,
      headers: { 'x-sluice-ai-backend': backend.config.name, 'x-sluice-attempts': '0' },
    });
    return undefined;
  }
  const first = plan.skipped[0];
  if (plan.groups.length === 0 && first) {
    // No target can take the request as it is: a client error naming what none of them accepts.
    writeError(response, 'unsupported_parameter', {
      message: first.message,
      param: first.param,
      headers: { 'x-sluice-ai-backend': backend.config.name, 'x-sluice-attempts': '0', ...skippedHeader },
    });
    return undefined;
  }
  const deadline = req.started + backend.config.timeouts.requestMs;
  const maxAttempts = backend.config.retry.attempts;
  const failures: Extract<AttemptOutcome, { kind: 'retryable' }>[] = [];
  // A request tries each target at most once: a target that just failed it is the least likely to
  // serve it next.
  const tried = new Set<string>();
  let attempts = 0;

  const headers = (target: CompiledTarget): HeaderRecord => ({
    'x-sluice-ai-backend': backend.config.name,
    'x-sluice-ai-target': target.config.name,
    'x-sluice-attempts': String(attempts),
    ...skippedHeader,
  });

  // A client that leaves ends the exchange: no more attempts, no waiting, no blame on any target.
  const clientGone = () => response.destroyed || response.writableEnded;
  while (attempts < maxAttempts && performance.now() < deadline && !clientGone()) {
    const planned = nextTarget(plan, tried, Date.now());
    if (!planned) {
      // Every untried target is cooling down: wait for the first to come back if that fits the deadline.
      const waitMs = (earliestReturn(plan, tried, Date.now()) ?? Number.POSITIVE_INFINITY) - Date.now();
      if (waitMs > deadline - performance.now()) break;
      await waitOrClientGone(response, Math.max(1, waitMs));
      continue;
    }
    const { target, ctx } = planned;
    tried.add(target.config.name);
    attempts++;
    const span = startAttemptSpan(req, planned, attempts);
    const outcome = await attempt({
      target,
      ctx,
      upstream: span ? traced(planned.upstream, req, span) : planned.upstream,
      response,
      deadline,
      firstTokenMs: backend.config.timeouts.firstTokenMs,
      streamIdleMs: backend.config.timeouts.streamIdleMs,
      transformPayload:
        req.responseMaskers.length > 0
          ? streamPayloadMasker(req.responseMaskers, (f) => req.onResponseMasked([f]))
          : undefined,
      commitStream: (contentType = 'text/event-stream') =>
        response.writeHead(200, {
          ...headers(target),
          'content-type': contentType,
          'cache-control': 'no-cache',
        }),
    });
    const labels = { sluice_ai_backend: backend.config.name, sluice_ai_target: target.config.name };
    endAttemptSpan(span, outcome);
    if (req.observed)
      req.observed.record.ai = {
        ...req.observed.record.ai,
        backend: backend.config.name,
        target: target.config.name,
        attempts,
      };
    switch (outcome.kind) {
      case 'retryable':
        target.health.failed(Date.now(), outcome.status === 429 ? outcome.retryAfterMs : undefined);
        req.metrics.attempts.inc({ ...labels, outcome: 'retryable' });
        req.log.warn(
          { backend: backend.config.name, target: target.config.name, err: outcome.error },
          'AI target failed, failing over',
        );
        failures.push(outcome);
        continue;
      case 'client_gone':
        return undefined;
      case 'client_error':
        req.metrics.attempts.inc({ ...labels, outcome: 'client_error' });
        req.log.info(
          {
            backend: backend.config.name,
            target: target.config.name,
            status: outcome.status,
            err: outcome.body.error,
          },
          'AI target refused the request',
        );
        sendJson(response, outcome.status, outcome.body, headers(target));
        return undefined;
      case 'json':
        target.health.succeeded();
        req.metrics.attempts.inc({ ...labels, outcome: 'success' });
        {
          const masked = await maskResponse(outcome.converted.body, req.responseMaskers);
          if (outcome.converted.unchanged && masked.length === 0) {
            // Nothing converted or masked: the provider's text as it came, without a second stringify.
            sendText(response, 200, outcome.text, headers(target));
            break;
          }
          req.onResponseMasked(masked);
          sendJson(response, 200, outcome.converted.body, headers(target));
          break;
        }
      case 'media':
        if (outcome.interrupted) target.health.failed(Date.now());
        else target.health.succeeded();
        req.metrics.attempts.inc({ ...labels, outcome: outcome.interrupted ? 'interrupted' : 'success' });
        break;
      case 'streamed':
        // A stream the client hung up on says nothing about the target.
        if (outcome.interrupted && !outcome.clientGone) target.health.failed(Date.now());
        else if (!outcome.interrupted) target.health.succeeded();
        req.metrics.attempts.inc({ ...labels, outcome: outcome.interrupted ? 'interrupted' : 'success' });
        break;
    }
    if (attempts > 1) req.metrics.failovers.inc({ sluice_ai_backend: backend.config.name });
    return recordExchange({ req, target, ctx, outcome, model, span });
  }
  if (clientGone()) return undefined;
  sendFailure(response, failures, backend, plan, tried, skippedHeader);
  return undefined;
}

function waitOrClientGone(response: ServerResponse, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      response.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timerMs(ms));
    response.once('close', done);
  });
}

function sendFailure(
  response: ServerResponse,
  failures: Extract<AttemptOutcome, { kind: 'retryable' }>[],
  backend: CompiledAIBackend,
  plan: TargetPlan,
  tried: ReadonlySet<string>,
  skippedHeader: HeaderRecord,
): void {
  const headers: HeaderRecord = {
    'x-sluice-ai-backend': backend.config.name,
    'x-sluice-attempts': String(failures.length),
    ...skippedHeader,
  };
  if (failures.length > 0 && failures.every((f) => f.status === 429)) {
    const wait = Math.min(...failures.map((f) => f.retryAfterMs ?? 1000));
    writeError(response, 'rate_limited_upstream', {
      headers: { ...headers, 'retry-after': String(Math.ceil(wait / 1000)) },
    });
    return;
  }
  const last = failures[failures.length - 1];
  let code: ErrorCode = 'providers_unavailable';
  if (last?.timedOut) code = 'upstream_timeout';
  else if (last?.credentialsRejected) code = 'upstream_credentials_rejected';
  else if (last) code = 'upstream_unreachable';
  if (code === 'providers_unavailable') {
    const back = earliestReturn(plan, tried, Date.now());
    if (back !== undefined && back > Date.now())
      headers['retry-after'] = String(Math.ceil((back - Date.now()) / 1000));
  }
  writeError(
    response,
    code,
    last ? { message: `Every attempt failed; last: ${last.reason}.`, headers } : { headers },
  );
}

/**
 * A client span per attempt (GenAI semantic conventions), child of the request's server span; its
 * trace context goes to the provider. Undefined when the request is not traced.
 */
function startAttemptSpan(req: AIRequest, planned: PlannedTarget, attempt: number): Span | undefined {
  const observed = req.observed;
  if (!observed?.span || !observed.tracing) return undefined;
  const { target, ctx } = planned;
  return observed.tracing.tracer.startSpan(
    `${GENAI_OPERATION[req.op]} ${ctx.upstreamModel}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': GENAI_OPERATION[req.op],
        'gen_ai.provider.name': target.adapter.genAiName,
        'gen_ai.request.model': ctx.upstreamModel,
        'server.address': target.endpoint.host,
        'server.port': target.endpoint.port,
        'sluice.ai.backend': req.backend.config.name,
        'sluice.ai.target': target.config.name,
        'sluice.ai.attempt': attempt,
      },
    },
    observed.context,
  );
}

/** The provider request with the attempt span's traceparent added (a copy: the plan is reused). */
function traced(upstream: UpstreamRequest, req: AIRequest, span: Span): UpstreamRequest {
  const headers = { ...upstream.headers };
  propagate(req.observed, headers, req.observed!.tracing!.contextWith(span, req.observed!.context));
  return { ...upstream, headers };
}

function endAttemptSpan(span: Span | undefined, outcome: AttemptOutcome): void {
  if (!span) return;
  span.setAttribute('sluice.ai.outcome', outcome.kind);
  if (outcome.kind === 'retryable' || outcome.kind === 'client_error') {
    span.setStatus({ code: SpanStatusCode.ERROR });
    const timedOut = outcome.kind === 'retryable' && outcome.timedOut;
    span.setAttribute(
      'error.type',
      timedOut ? 'timeout' : outcome.status ? String(outcome.status) : 'connect_error',
    );
  }
  if (outcome.kind === 'streamed' && outcome.interrupted) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('error.type', outcome.clientGone ? 'client_gone' : 'stream_interrupted');
  }
  // Served exchanges end in recordExchange, once their usage is known.
  if (outcome.kind !== 'json' && outcome.kind !== 'streamed' && outcome.kind !== 'media') span.end();
}
