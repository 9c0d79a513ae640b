import type { ProviderAdapter, ProviderContext, UpstreamRequest } from '../adapter.ts';
import { toGeminiRequest } from './gemini-request.ts';
import { fromGeminiError, fromGeminiResponse } from './gemini-response.ts';
import { geminiStreamConverter } from './gemini-stream.ts';

/**
 * `models/{model}:generateContent`, or `:streamGenerateContent?alt=sse` (server-sent events, one
 * partial response each) for streams, under the target's base URL (`…/v1beta` for Google AI).
 */
function request(body: Record<string, unknown>, ctx: ProviderContext): UpstreamRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (ctx.apiKey) headers['x-goog-api-key'] = ctx.apiKey;
  const method = ctx.stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
  return {
    path: `${ctx.basePath}/models/${encodeURIComponent(ctx.upstreamModel)}:${method}`,
    headers,
    body: JSON.stringify(toGeminiRequest(body, ctx)),
  };
}

/** Google's Gemini API (Google AI Studio keys) behind the OpenAI chat surface (chat only). */
export const geminiAdapter: ProviderAdapter = {
  genAiName: 'gcp.gemini',
  supports: (op) => op === 'chat',
  request,
  response: (json: unknown) => fromGeminiResponse(json),
  streamConverter: geminiStreamConverter,
  error: fromGeminiError,
};
