import type { ModelPrice } from '../config/ai-backend.ts';

/**
 * Tokens of one exchange, in OpenAI's accounting: `input` includes `cachedInput` and `cacheWrite`,
 * `output` includes `reasoning`.
 */
export interface TokenUsage {
  input: number;
  cachedInput: number;
  output: number;
  reasoning: number;
  /** Input written to the provider's prompt cache (Anthropic, Bedrock), billed above plain input. */
  cacheWrite?: number;
}

interface OpenAIUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  /** The Responses API's names (image generation's too). */
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  input_tokens_details?: { cached_tokens?: number } | null;
  output_tokens_details?: { reasoning_tokens?: number } | null;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export function usageFromOpenAI(u: OpenAIUsage | null | undefined): TokenUsage | undefined {
  if (!u) return undefined;
  if (typeof u.prompt_tokens !== 'number') {
    // Rerank servers (vLLM, TEI) report one total: it is all input.
    if (typeof u.input_tokens !== 'number')
      return typeof u.total_tokens === 'number'
        ? { input: u.total_tokens, cachedInput: 0, output: 0, reasoning: 0 }
        : undefined;
    return {
      input: u.input_tokens,
      cachedInput: u.input_tokens_details?.cached_tokens ?? 0,
      output: u.output_tokens ?? 0,
      reasoning: u.output_tokens_details?.reasoning_tokens ?? 0,
    };
  }
  return {
    input: u.prompt_tokens,
    cachedInput: u.prompt_tokens_details?.cached_tokens ?? 0,
    output: u.completion_tokens ?? 0,
    reasoning: u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function openAIUsageOf(u: TokenUsage) {
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cachedInput },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

/** Cost in USD: cached input, cache writes and reasoning output at their own prices when the model has them. */
export function costUsd(u: TokenUsage, price: ModelPrice): number {
  const written = u.cacheWrite ?? 0;
  const input = (u.input - u.cachedInput - written) * price.inputPerMillion;
  const cached =
    u.cachedInput * (price.cachedInputPerMillion ?? price.inputPerMillion) +
    written * (price.cacheWriteInputPerMillion ?? price.inputPerMillion);
  const output = (u.output - u.reasoning) * price.outputPerMillion;
  const reasoning = u.reasoning * (price.reasoningPerMillion ?? price.outputPerMillion);
  return (input + cached + output + reasoning) / 1_000_000;
}
