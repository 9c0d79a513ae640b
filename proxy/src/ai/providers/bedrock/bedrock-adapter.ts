import type { ProviderAdapter, ProviderContext, UpstreamRequest } from '../adapter.ts';
import { authorizeBedrock } from './aws-credentials.ts';
import { toConverseRequest } from './bedrock-request.ts';
import { fromBedrockError, fromConverseResponse } from './bedrock-response.ts';
import { bedrockStreamConverter } from './bedrock-stream.ts';
import { EventStreamDecoder } from './event-stream.ts';

/**
 * `model/{modelId}/converse`, or `converse-stream` (AWS event-stream frames) for streams, under the
 * target's base URL (`https://bedrock-runtime.<region>.amazonaws.com`). The model id is escaped as
 * AWS's own SDK does (ids carry `:`).
 */
function request(body: Record<string, unknown>, ctx: ProviderContext): UpstreamRequest {
  const method = ctx.stream ? 'converse-stream' : 'converse';
  return {
    path: `${ctx.basePath}/model/${encodeURIComponent(ctx.upstreamModel)}/${method}`,
    // The credential is signed with, never sent: authorize adds the signature.
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(toConverseRequest(body, ctx)),
  };
}

/** Amazon Bedrock's Converse API behind the OpenAI chat surface (chat only). */
export const bedrockAdapter: ProviderAdapter = {
  genAiName: 'aws.bedrock',
  supports: (op) => op === 'chat',
  request,
  response: (json, ctx) => fromConverseResponse(json, ctx.upstreamModel),
  streamConverter: bedrockStreamConverter,
  streamDecoder: () => new EventStreamDecoder(),
  error: fromBedrockError,
  authorize: authorizeBedrock,
};
