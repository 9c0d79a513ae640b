import type { AIOperation } from '../../../client-api/operations.ts';
import type { ProviderAdapter, ProviderContext, UpstreamRequest } from '../adapter.ts';
import { openAIAdapter, openAIPayload, openAIRequestBody } from '../openai/openai-adapter.ts';

/** Azure OpenAI's deployment paths; it offers no moderation endpoint (content filters are built in). */
const OP_PATH: Partial<Record<AIOperation, string>> = {
  chat: 'chat/completions',
  completions: 'completions',
  embeddings: 'embeddings',
  images: 'images/generations',
  responses: 'responses',
  image_edits: 'images/edits',
  transcriptions: 'audio/transcriptions',
  translations: 'audio/translations',
  speech: 'audio/speech',
};

/** Azure OpenAI: the OpenAI wire format at a deployment URL, with an `api-key` header. */
function request(
  body: Record<string, unknown>,
  ctx: ProviderContext,
  verbatim: Buffer | undefined,
): UpstreamRequest {
  const azure = ctx.target.azure;
  const deployment = encodeURIComponent(azure?.deployment ?? ctx.upstreamModel);
  const apiVersion = encodeURIComponent(azure?.apiVersion ?? '2024-10-21');
  const payload = openAIPayload(body, ctx, verbatim);
  const headers: Record<string, string> = { 'content-type': payload.contentType };
  if (ctx.apiKey) headers['api-key'] = ctx.apiKey;
  // The Responses API is not under a deployment: Azure's v1 API takes the deployment as the model.
  if (ctx.op === 'responses')
    return {
      path: `${ctx.basePath}/openai/v1/responses`,
      headers,
      body: openAIRequestBody(
        body,
        { ...ctx, upstreamModel: azure?.deployment ?? ctx.upstreamModel },
        verbatim,
      ),
    };
  return {
    path: `${ctx.basePath}/openai/deployments/${deployment}/${OP_PATH[ctx.op]}?api-version=${apiVersion}`,
    headers,
    body: payload.body,
  };
}

export const azureOpenAIAdapter: ProviderAdapter = {
  ...openAIAdapter,
  genAiName: 'azure.ai.openai',
  supports: (op) => OP_PATH[op] !== undefined,
  request,
};
