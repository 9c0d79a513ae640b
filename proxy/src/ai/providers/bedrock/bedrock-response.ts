import { openAIUsageOf, type TokenUsage } from '../../../usage/usage.ts';
import type { ConvertedResponse } from '../adapter.ts';
import { assistantChoice } from '../translated-chat.ts';

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

interface ConverseBlock {
  text?: string;
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  reasoningContent?: unknown;
}

interface ConverseResponse {
  output?: { message?: { role?: string; content?: ConverseBlock[] } };
  stopReason?: string;
  usage?: ConverseUsage;
}

/**
 * Converse usage in OpenAI's accounting: `inputTokens` leaves out what was read from or written to
 * the prompt cache, so those are added to the input (cache reads as cached input).
 */
export function usageFromConverse(u: ConverseUsage): TokenUsage {
  const cached = u.cacheReadInputTokens ?? 0;
  const cacheWrite = u.cacheWriteInputTokens ?? 0;
  return {
    input: (u.inputTokens ?? 0) + cached + cacheWrite,
    cachedInput: cached,
    output: u.outputTokens ?? 0,
    reasoning: 0,
    ...(cacheWrite ? { cacheWrite } : {}),
  };
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

/** Converse's stopReason as OpenAI's finish_reason. */
export function finishReason(reason: string | undefined): string {
  return FINISH[reason ?? ''] ?? 'stop';
}

/** Bedrock Converse response → OpenAI chat completion. The answer names no model: the request's is used. */
export function fromConverseResponse(json: unknown, model: string): ConvertedResponse {
  const r = json as ConverseResponse;
  const blocks = r.output?.message?.content ?? [];
  const text = blocks.map((b) => b.text ?? '').join('');
  const toolCalls = blocks
    .filter((b) => b.toolUse)
    .map((b, i) => ({
      id: b.toolUse!.toolUseId ?? `call_${i}`,
      type: 'function',
      function: { name: b.toolUse!.name ?? '', arguments: JSON.stringify(b.toolUse!.input ?? {}) },
    }));
  const usage = r.usage ? usageFromConverse(r.usage) : undefined;
  return {
    body: {
      id: `chatcmpl-bedrock-${Date.now().toString(36)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [assistantChoice(text, toolCalls, finishReason(r.stopReason))],
      ...(usage ? { usage: openAIUsageOf(usage) } : {}),
    },
    usage,
    model,
  };
}

/** Bedrock's error body (`{message}`, the type in the x-amzn-errortype header) in OpenAI's shape. */
export function fromBedrockError(json: unknown, status: number): Record<string, unknown> {
  const e = json as { message?: string; Message?: string } | undefined;
  return {
    error: {
      message: e?.message ?? e?.Message ?? `provider answered ${status}`,
      type: 'upstream_error',
      code: null,
    },
  };
}
