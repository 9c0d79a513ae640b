/** The OpenAI-compatible operations Sluice serves, by request path. */
/**
 * `responses` is the OpenAI Responses API passed through natively (stored state, built-in tools) to
 * providers that speak it; Responses requests chat can carry are the chat operation (ai/surfaces/).
 */
export type AIOperation = 'chat' | 'completions' | 'embeddings' | 'moderations' | 'images' | 'responses';

export const OPERATION_BY_PATH: Readonly<Record<string, AIOperation>> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
  '/v1/moderations': 'moderations',
  '/v1/images/generations': 'images',
};

export const MODELS_PATH = '/v1/models';

/**
 * A stored response at the provider that keeps it: `GET`/`DELETE /v1/responses/{id}`,
 * `GET …/input_items`, `POST …/cancel` (see ai/stored-responses.ts).
 */
export const STORED_RESPONSE_PATH = /^\/v1\/responses\/([^/]+)(\/input_items|\/cancel)?$/;

/** Client APIs served as surfaces over the chat pipeline (ai/surfaces/): Anthropic Messages, OpenAI Responses. */

export type SurfaceKind = 'messages' | 'count_tokens' | 'responses';
export const SURFACE_BY_PATH: Readonly<Record<string, SurfaceKind>> = {
  '/v1/messages': 'messages',
  '/v1/messages/count_tokens': 'count_tokens',
  '/v1/responses': 'responses',
};

/** `gen_ai.operation.name` values from the OpenTelemetry GenAI conventions. */
export const GENAI_OPERATION: Readonly<Record<AIOperation, string>> = {
  chat: 'chat',
  completions: 'text_completion',
  embeddings: 'embeddings',
  // Not named by the GenAI conventions: moderation is Sluice's own name, images are generated content.
  moderations: 'moderations',
  images: 'generate_content',
  responses: 'chat',
};

/** Request header carrying the model from the body, set before route matching. */
export const MODEL_HEADER = 'x-sluice-model';
