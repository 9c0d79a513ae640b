import type { Usage } from './openai-format.ts';
import { countWords } from './tokens.ts';

type Part = { text?: string; functionCall?: unknown; functionResponse?: unknown; inlineData?: unknown };

export interface GenerateContentRequest {
  contents?: { role?: string; parts?: Part[] }[];
  systemInstruction?: { parts?: Part[] };
  tools?: { functionDeclarations?: { name: string }[] }[];
  generationConfig?: { candidateCount?: number };
}

/** Prompt tokens of a generateContent request: the words of every text part, system included. */
export function geminiPromptTokens(req: GenerateContentRequest): number {
  const parts = [
    ...(req.systemInstruction?.parts ?? []),
    ...(req.contents ?? []).flatMap((c) => c.parts ?? []),
  ];
  return parts.reduce((n, p) => n + countWords(typeof p.text === 'string' ? p.text : ''), 0);
}

/** Gemini's usageMetadata: thinking counted apart from the candidates' tokens, as Gemini does. */
export function geminiUsage(u: Usage) {
  return {
    promptTokenCount: u.prompt,
    candidatesTokenCount: u.completion - u.reasoning,
    ...(u.reasoning ? { thoughtsTokenCount: u.reasoning } : {}),
    ...(u.cached ? { cachedContentTokenCount: u.cached } : {}),
    totalTokenCount: u.prompt + u.completion,
  };
}

/** The first declared function, when the request offers tools: the fake calls it. */
export function geminiTool(req: GenerateContentRequest): string | undefined {
  return req.tools?.[0]?.functionDeclarations?.[0]?.name;
}
