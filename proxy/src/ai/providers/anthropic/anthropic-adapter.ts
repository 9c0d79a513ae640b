import type { ProviderAdapter, ProviderContext, UpstreamRequest } from '../adapter.ts';
import { toAnthropicRequest } from './anthropic-request.ts';
import { fromAnthropicError, fromAnthropicResponse } from './anthropic-response.ts';
import { anthropicStreamConverter } from './anthropic-stream.ts';

const DEFAULT_VERSION = '2023-06-01';

function request(body: Record<string, unknown>, ctx: ProviderContext): UpstreamRequest {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': ctx.target.anthropic?.version ?? DEFAULT_VERSION,
  };
  if (ctx.apiKey) headers['x-api-key'] = ctx.apiKey;
  return { path: `${ctx.basePath}/messages`, headers, body: JSON.stringify(toAnthropicRequest(body, ctx)) };
}

/** Anthropic's Messages API behind the OpenAI chat surface (chat only). */
export const anthropicAdapter: ProviderAdapter = {
  genAiName: 'anthropic',
  supports: (op) => op === 'chat',
  request,
  response: (json: unknown, _ctx: ProviderContext) => fromAnthropicResponse(json),
  streamConverter: anthropicStreamConverter,
  error: fromAnthropicError,
};
