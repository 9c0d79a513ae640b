import type { ProviderAdapter } from '../adapter.ts';
import { geminiAdapter } from '../gemini/gemini-adapter.ts';
import { serviceAccountToken } from './service-account-token.ts';

/**
 * Gemini on Vertex AI: the same generateContent schema and paths under the target's base URL
 * (`https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/publishers/google`),
 * authorised with an OAuth access token minted from a service-account key instead of an API key.
 */
export const vertexAdapter: ProviderAdapter = {
  ...geminiAdapter,
  genAiName: 'gcp.vertex_ai',
  // The credential is the key file, not something to send: only the minted token goes out.
  request: (body, ctx, verbatim) => geminiAdapter.request(body, { ...ctx, apiKey: undefined }, verbatim),
  authorize: async (upstream, ctx) => {
    const token = await serviceAccountToken(ctx.apiKey);
    upstream.headers.authorization = `Bearer ${token}`;
    return token;
  },
};
