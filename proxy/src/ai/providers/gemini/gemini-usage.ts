import type { TokenUsage } from '../../../usage/usage.ts';

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

/**
 * Gemini's usage in OpenAI's accounting: the prompt count includes cached content; thinking tokens
 * are counted apart from the candidates' and billed as output, so they join `output` as reasoning;
 * tool-use prompt tokens (Google Search and the like) are input.
 */
export function usageFromGemini(u: GeminiUsage): TokenUsage {
  const reasoning = u.thoughtsTokenCount ?? 0;
  return {
    input: (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    cachedInput: u.cachedContentTokenCount ?? 0,
    output: (u.candidatesTokenCount ?? 0) + reasoning,
    reasoning,
  };
}

const FINISH: Record<string, string> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
};

/** A candidate's finishReason as OpenAI's; a turn that called tools finishes with `tool_calls`. */
export function finishReason(reason: string | undefined, calledTools: boolean): string | null {
  if (!reason || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (calledTools && reason === 'STOP') return 'tool_calls';
  return FINISH[reason] ?? 'stop';
}
