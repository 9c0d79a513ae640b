import type { AttemptOutcome } from './attempt.ts';
import type { CompiledTarget } from './compiled-backend.ts';
import type { AIRequest } from './handle-ai-request.ts';
import { countTokens } from './local-token-count.ts';
import { GENAI_OPERATION } from './operations.ts';
import type { ProviderContext } from './providers/adapter.ts';
import { costUsd, type TokenUsage } from './usage.ts';

interface Exchange {
  req: AIRequest;
  target: CompiledTarget;
  ctx: ProviderContext;
  outcome: Extract<AttemptOutcome, { kind: 'json' } | { kind: 'streamed' }>;
  model: string;
}

/**
 * Accounts one served exchange: GenAI token, duration and latency metrics, and cost in USD. Usage
 * comes from the provider; only a stream cut short without usage is counted locally (js-tiktoken).
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
}: Exchange): Promise<Settlement | undefined> {
  const backend = req.backend;
  let usage: TokenUsage | undefined;
  let responseModel: string | undefined;
  if (outcome.kind === 'json') {
    usage = outcome.converted.usage;
    responseModel = outcome.converted.model;
  } else {
    usage = outcome.converter.usage();
    responseModel = outcome.converter.model();
    if (!usage) {
      usage = await countLocally(req.body, outcome.converter.text());
      req.metrics.locallyCounted.inc({ sluice_ai_backend: backend.config.name });
    }
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
    { ...labels, error_type: outcome.kind === 'streamed' && outcome.interrupted ? 'stream_interrupted' : '' },
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
  if (!usage) return undefined;
  req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'input' }, usage.input);
  req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'output' }, usage.output);
  if (usage.cachedInput > 0)
    req.metrics.tokenUsage.observe({ ...labels, gen_ai_token_type: 'cached_input' }, usage.cachedInput);
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
  return { usage, costUsd: cost };
}

/** Prompt and streamed completion text counted with o200k_base: an estimate, used only when cut short. */
async function countLocally(body: Record<string, unknown>, completion: string): Promise<TokenUsage> {
  const messages = (body.messages ?? []) as { content?: unknown }[];
  const prompt = messages
    .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? '')))
    .join('\n');
  const text = typeof body.prompt === 'string' ? body.prompt : prompt;
  return {
    input: await countTokens(text),
    cachedInput: 0,
    output: await countTokens(completion),
    reasoning: 0,
  };
}
