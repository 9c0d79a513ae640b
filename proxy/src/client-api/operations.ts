/** The OpenAI-compatible operations Sluice serves, by request path. */
/**
 * `responses` is the OpenAI Responses API passed through natively (stored state, built-in tools) to
 * providers that speak it; Responses requests chat can carry are the chat operation (ai/surfaces/).
 */
export type AIOperation =
  | 'chat'
  | 'completions'
  | 'embeddings'
  | 'moderations'
  | 'images'
  | 'responses'
  | 'image_edits'
  | 'transcriptions'
  | 'translations'
  | 'speech'
  | 'rerank';

/** Operations whose request is a multipart form (a file and text fields), not JSON. */
export const FORM_OPERATIONS: ReadonlySet<AIOperation> = new Set([
  'image_edits',
  'transcriptions',
  'translations',
]);

/** Operations whose answer may be other than JSON (audio bytes; transcripts as text, SRT or VTT). */
export const MEDIA_ANSWERS: ReadonlySet<AIOperation> = new Set(['speech', 'transcriptions', 'translations']);

export const OPERATION_BY_PATH: Readonly<Record<string, AIOperation>> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
  '/v1/moderations': 'moderations',
  '/v1/images/generations': 'images',
  '/v1/images/edits': 'image_edits',
  '/v1/audio/transcriptions': 'transcriptions',
  '/v1/audio/translations': 'translations',
  '/v1/audio/speech': 'speech',
  // The rerank API of vLLM, TEI, Infinity, Jina and Cohere (v2): query and documents in, scores out.
  '/v1/rerank': 'rerank',
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
  // Not named by the GenAI conventions either: each is the API's own word.
  image_edits: 'generate_content',
  transcriptions: 'transcription',
  translations: 'translation',
  speech: 'speech',
  rerank: 'rerank',
};

/** Request header carrying the model from the body, set before route matching. */
export const MODEL_HEADER = 'x-sluice-model';
