import type { Span } from '@opentelemetry/api';
import { GENAI_OPERATION } from '../client-api/operations.ts';
import { costUsd, type TokenUsage } from '../usage/usage.ts';
import type { AIRequest } from './ai-request.ts';
import type { AttemptOutcome } from './attempt.ts';
import type { CompiledTarget } from './compiled-backend.ts';
import { countTokens } from './local-token-count.ts';
import type { ProviderContext } from './providers/adapter.ts';

interface Exchange {
  req: AIRequest;
  target: CompiledTarget;
  ctx: ProviderContext;
  outcome: Extract<AttemptOutcome, { kind: 'json' } | { kind: 'streamed' } | { kind: 'media' }>;
  model: string;
  /** The attempt's span, ended here with the usage and response model. */
  span: Span | undefined;
}

/**
 * Accounts one served exchange: GenAI token, duration and latency metrics, and cost in USD. Usage
 * comes from the provider; only an answer without usage (say a stream cut short) is counted locally.
 */
export interface Settlement {
  usage: TokenUsage;
  costUsd: number;
}

export async function recordExchange({
  req,
  target,
  ctx,
  outcome,
  model,
  span,
}: Exchange): Promise<Settlement | undefined> {
  const backend = req.backend;
  let usage: TokenUsage | undefined;
  let responseModel: string | undefined;
  if (outcome.kind === 'json') {
    usage = outcome.converted.usage;
    responseModel = outcome.converted.model;
  } else if (outcome.kind === 'streamed') {
    usage = outcome.converter.usage();
    responseModel = outcome.converter.model();
  }
  if (!usage) {
    // No usage from the provider (a stream cut short, an answer without `usage`, speech audio):
    // never free. Media answers are bytes: only their request's text is counted.
    const completion =
      outcome.kind === 'json'
        ? answerText(outcome.converted.body)
        : outcome.kind === 'streamed'
          ? outcome.converter.text()
          : '';
    usage = await countLocally(req.body, completion);
    req.metrics.locallyCounted.inc({ sluice_ai_backend: backend.config.name });
  }
  const labels = {
    gen_ai_operation_name: GENAI_OPERATION[ctx.op],
    gen_ai_provider_name: target.adapter.genAiName,
    gen_ai_request_model: model,
    gen_ai_response_model: responseModel ?? ctx.upstreamModel,
    sluice_ai_backend: backend.config.name,
  };
  const now = performance.now();
  req.metrics.requestDuration.observe(
    {
      ...labels,
      error_type:
        (outcome.kind === 'streamed' || outcome.kind === 'media') && outcome.interrupted
          ? 'stream_interrupted'
          : '',
    },
    (now - req.started) / 1000,
  );
  if (outcome.kind === 'streamed') {
    req.metrics.timeToFirstToken.observe(labels, (outcome.firstTokenAt - req.started) / 1000);
    if (usage && usage.output > 1)
      req.metrics.timePerOutputToken.observe(
        labels,
        (now - outcome.firstTokenAt) / 1000 / (usage.output - 1),
      );
  }
  if (span) {
    if (outcome.kind === 'streamed') span.addEvent('gen_ai.first_token', outcome.firstTokenAt);
    span.setAttribute('gen_ai.response.model', responseModel ?? ctx.upstreamModel);
    if (usage) {
      span.setAttribute('gen_ai.usage.input_tokens', usage.input);
      span.setAttribute('gen_ai.usage.output_tokens', usage.output);
    }
    span.end();
  }
  if (!usage) return undefined;
  req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, usage.input);
  req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, usage.output);
  if (usage.cachedInput > 0)
    req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'cached_input' }, usage.cachedInput);
  if (usage.cacheWrite)
    req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'cache_write' }, usage.cacheWrite);
  if (usage.reasoning > 0)
    req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'reasoning' }, usage.reasoning);
  const price =
    backend.prices.get(ctx.upstreamModel) ?? (responseModel ? backend.prices.get(responseModel) : undefined);
  const cost = price ? costUsd(usage, price) : 0;
  if (price)
    req.metrics.costUsd.inc(
      {
        sluice_ai_backend: backend.config.name,
        sluice_ai_target: target.config.name,
        gen_ai_response_model: responseModel ?? ctx.upstreamModel,
        consumer: req.caller.consumer,
        team: req.caller.team,
      },
      cost,
    );
  if (req.observed)
    req.observed.record.ai = {
      backend: backend.config.name,
      target: target.config.name,
      ...req.observed.record.ai,
      model,
      responseModel: responseModel ?? ctx.upstreamModel,
      inputTokens: usage.input,
      outputTokens: usage.output,
      costUsd: cost,
      consumer: req.caller.consumer,
      team: req.caller.team,
    };
  return { usage, costUsd: cost };
}

/** Prompt and completion text counted with o200k_base: used only when the provider reported no usage. */
async function countLocally(body: Record<string, unknown>, completion: string): Promise<TokenUsage> {
  const messages = (body.messages ?? []) as { content?: unknown }[];
  const prompt = messages
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '')))
    .join('\n');
  // Rerank reads a query and documents; the other operations a prompt or an input.
  const input =
    body.input ?? body.prompt ?? (body.query === undefined ? undefined : [body.query, body.documents]);
  const text = input === undefined ? prompt : typeof input === 'string' ? input : JSON.stringify(input);
  const [inputTokens, outputTokens] = await countTokens([text, completion]);
  return { input: inputTokens ?? 0, cachedInput: 0, output: outputTokens ?? 0, reasoning: 0 };
}

/** The generated text of a non-streamed OpenAI-shaped answer (chat or legacy completions). */
function answerText(body: Record<string, unknown>): string {
  const choices = Array.isArray(body.choices) ? (body.choices as Record<string, unknown>[]) : [];
  return choices
    .map((c) => {
      const message = c?.message as { content?: unknown } | undefined;
      const text = message?.content ?? c?.text;
      return typeof text === 'string' ? text : '';
    })
    .join('\n');
}
