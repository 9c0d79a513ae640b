import { openAIUsageOf } from '../../../usage/usage.ts';
import type { ConvertedResponse } from '../adapter.ts';
import { assistantChoice } from '../translated-chat.ts';
import { type AnthropicUsage, finishReason, usageFromAnthropic } from './anthropic-usage.ts';

interface AnthropicMessage {
  id: string;
  model: string;
  content: { type: string; text?: string; id?: string; name?: string; input?: unknown }[];
  stop_reason: string | null;
  usage: AnthropicUsage;
}

/** Anthropic Messages response → OpenAI chat completion. */
export function fromAnthropicResponse(json: unknown): ConvertedResponse {
  const m = json as AnthropicMessage;
  const text = m.content
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('');
  const toolCalls = m.content
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({
      id: b.id,
      type: 'function',
      function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
    }));
  const usage = usageFromAnthropic(m.usage);
  return {
    body: {
      id: m.id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: m.model,
      choices: [assistantChoice(text, toolCalls, finishReason(m.stop_reason))],
      usage: openAIUsageOf(usage),
    },
    usage,
    model: m.model,
  };
}

export function fromAnthropicError(json: unknown, status: number): Record<string, unknown> {
  const e = (json as { error?: { type?: string; message?: string } } | undefined)?.error;
  return {
    error: {
      message: e?.message ?? `provider answered ${status}`,
      type: e?.type ?? 'upstream_error',
      code: null,
    },
  };
}
