import { openAIUsageOf } from '../../../usage/usage.ts';
import type { ConvertedResponse } from '../adapter.ts';
import { assistantChoice } from '../translated-chat.ts';
import { finishReason, type GeminiUsage, usageFromGemini } from './gemini-usage.ts';

export interface GeminiPart {
  text?: string;
  thought?: boolean;
  functionCall?: { id?: string; name?: string; args?: unknown };
}

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  finishReason?: string;
}

export interface GeminiResponse {
  candidates?: GeminiCandidate[];
  usageMetadata?: GeminiUsage;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: { blockReason?: string };
}

/** Text of a candidate's parts, thoughts left out (OpenAI's chat API does not show reasoning). */
export function textOf(parts: GeminiPart[] | undefined): string {
  return (parts ?? [])
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text)
    .join('');
}

/** The candidate's function calls as OpenAI tool calls (Gemini ids when it gives them). */
export function toolCallsOf(parts: GeminiPart[] | undefined, idPrefix: string) {
  return (parts ?? [])
    .filter((p) => p.functionCall)
    .map((p, i) => ({
      id: p.functionCall!.id ?? `${idPrefix}_${i}`,
      type: 'function',
      function: { name: p.functionCall!.name ?? '', arguments: JSON.stringify(p.functionCall!.args ?? {}) },
    }));
}

/** Gemini generateContent response → OpenAI chat completion (each candidate a choice). */
export function fromGeminiResponse(json: unknown): ConvertedResponse {
  const r = json as GeminiResponse;
  const id = r.responseId ?? 'gemini';
  const usage = r.usageMetadata ? usageFromGemini(r.usageMetadata) : undefined;
  // A prompt Gemini blocked has no candidates: one empty choice says so.
  const candidates = r.candidates?.length
    ? r.candidates
    : [{ finishReason: r.promptFeedback?.blockReason ? 'SAFETY' : 'STOP' }];
  return {
    body: {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: r.modelVersion,
      choices: candidates.map((c, i) => {
        const toolCalls = toolCallsOf(c.content?.parts, `call_${id}_${i}`);
        return assistantChoice(
          textOf(c.content?.parts),
          toolCalls,
          finishReason(c.finishReason, toolCalls.length > 0),
          c.index ?? i,
        );
      }),
      ...(usage ? { usage: openAIUsageOf(usage) } : {}),
    },
    usage,
    model: r.modelVersion,
  };
}

/** Google's error body (`{error: {code, message, status}}`) in OpenAI's shape. */
export function fromGeminiError(json: unknown, status: number): Record<string, unknown> {
  const e = (json as { error?: { message?: string; status?: string } } | undefined)?.error;
  return {
    error: {
      message: e?.message ?? `provider answered ${status}`,
      type: e?.status ?? 'upstream_error',
      code: null,
    },
  };
}
