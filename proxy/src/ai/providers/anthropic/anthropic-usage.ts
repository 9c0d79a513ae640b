import type { TokenUsage } from '../../../usage/usage.ts';

export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** Anthropic counts cache reads and writes apart from input_tokens; OpenAI's prompt_tokens includes them. */
export function usageFromAnthropic(u: AnthropicUsage): TokenUsage {
  const cacheRead = u.cache_read_input_tokens ?? 0;
  const cacheWrite = u.cache_creation_input_tokens ?? 0;
  return {
    input: (u.input_tokens ?? 0) + cacheRead + cacheWrite,
    cachedInput: cacheRead,
    output: u.output_tokens ?? 0,
    reasoning: 0,
    ...(cacheWrite ? { cacheWrite } : {}),
  };
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  pause_turn: 'stop',
  refusal: 'content_filter',
};

export function finishReason(stop: string | null | undefined): string | null {
  return stop ? (FINISH[stop] ?? 'stop') : null;
}
