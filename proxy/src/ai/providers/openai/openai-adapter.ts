import type { ClientEvent } from '../../../client-api/client-event.ts';
import { type AIOperation, MEDIA_ANSWERS } from '../../../client-api/operations.ts';
import { type TokenUsage, usageFromOpenAI } from '../../../usage/usage.ts';
import { encodeForm } from '../../form-body.ts';
import type { SseEvent } from '../../sse.ts';
import type {
  ConvertedResponse,
  ProviderAdapter,
  ProviderContext,
  StreamConverter,
  UpstreamRequest,
} from '../adapter.ts';
import { chatChunkText } from './chunk-text.ts';
import { responsesAnswer, responsesStreamConverter } from './responses-passthrough.ts';

const OP_PATH: Record<AIOperation, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  moderations: '/moderations',
  images: '/images/generations',
  responses: '/responses',
  image_edits: '/images/edits',
  transcriptions: '/audio/transcriptions',
  translations: '/audio/translations',
  speech: '/audio/speech',
  rerank: '/rerank',
};

/** Spliced into a streamed request that has no `stream_options`, before its closing brace. */
const FORCED_USAGE = Buffer.from(',"stream_options":{"include_usage":true}}');
const CLOSING_BRACE = 0x7d;

/**
 * OpenAI and OpenAI-compatible servers (vLLM, Ollama, llama.cpp, TGI): the body passes through with
 * the model replaced and, for streams, usage forced on so every token is accounted. When the model
 * stays and the client's own bytes are at hand (`verbatim`), those bytes go on as they came, with
 * the usage option spliced in: re-serialising a large prompt costs more than the rest of the request.
 */
export function openAIRequestBody(
  body: Record<string, unknown>,
  ctx: ProviderContext,
  verbatim: Buffer | undefined,
): string | Buffer {
  const forceUsage = ctx.stream && (ctx.op === 'chat' || ctx.op === 'completions') && !ctx.clientWantsUsage;
  if (verbatim && body.model === ctx.upstreamModel) {
    if (!forceUsage) return verbatim;
    if (!('stream_options' in body)) {
      // A parsed object ends with `}` and whitespace; it has keys (model at least), so a comma goes first.
      const end = verbatim.lastIndexOf(CLOSING_BRACE);
      return Buffer.concat([verbatim.subarray(0, end), FORCED_USAGE]);
    }
  }
  const out: Record<string, unknown> = { ...body, model: ctx.upstreamModel };
  if (forceUsage)
    out.stream_options = { ...(body.stream_options as object | undefined), include_usage: true };
  return JSON.stringify(out);
}

/**
 * The request body and its content type: a multipart form written from its parts with the target's
 * model (image edits, audio), otherwise JSON (see openAIRequestBody).
 */
export function openAIPayload(
  body: Record<string, unknown>,
  ctx: ProviderContext,
  verbatim: Buffer | undefined,
): { body: string | Buffer; contentType: string } {
  if (ctx.form) return encodeForm(ctx.form, { ...body, model: ctx.upstreamModel });
  return { body: openAIRequestBody(body, ctx, verbatim), contentType: 'application/json' };
}

export function openAIPath(ctx: ProviderContext): string {
  return `${ctx.basePath}${OP_PATH[ctx.op]}`;
}

function request(
  body: Record<string, unknown>,
  ctx: ProviderContext,
  verbatim: Buffer | undefined,
): UpstreamRequest {
  const payload = openAIPayload(body, ctx, verbatim);
  const headers: Record<string, string> = {
    'content-type': payload.contentType,
    // Speech answers audio and transcripts may be text: accept whatever the operation answers.
    accept: ctx.stream ? 'text/event-stream' : MEDIA_ANSWERS.has(ctx.op) ? '*/*' : 'application/json',
  };
  if (ctx.apiKey) headers.authorization = `Bearer ${ctx.apiKey}`;
  return { path: openAIPath(ctx), headers, body: payload.body };
}

function response(json: unknown, ctx: ProviderContext): ConvertedResponse {
  if (ctx.op === 'responses') return responsesAnswer(json, ctx);
  const body = json as Record<string, unknown>;
  return {
    body,
    unchanged: true,
    usage: usageFromOpenAI(body.usage as Parameters<typeof usageFromOpenAI>[0]),
    model: typeof body.model === 'string' ? body.model : undefined,
  };
}

/**
 * Passes OpenAI chunks through. Only when the client did not ask for usage are chunks rewritten: the
 * usage-only chunk Sluice forced is dropped and `usage` keys are removed, so the client sees exactly
 * what it asked for.
 */
const USAGE_NULL_TAIL = ',"usage":null}';

export function openAIStreamConverter(ctx: ProviderContext): StreamConverter {
  let usage: TokenUsage | undefined;
  let model: string | undefined;
  let done = false;
  let text = '';
  return {
    convert(event: SseEvent): ClientEvent[] {
      const data = event.data;
      if (data === '[DONE]') {
        done = true;
        return [{ data }];
      }
      // Most chunks of a chat stream are not parsed: once the model is known, a chunk with no usage
      // (or only the `"usage":null` Sluice's forced option adds) gives just its text, read from its
      // JSON text, and goes on as it came. Consumers that need the parsed chunk (a guard masking the
      // answer) parse it themselves.
      if (model !== undefined && ctx.op === 'chat') {
        const nullUsageTail = data.endsWith(USAGE_NULL_TAIL);
        const usageAt = data.indexOf('"usage"');
        if (usageAt === -1 || (nullUsageTail && usageAt === data.length - USAGE_NULL_TAIL.length + 1)) {
          const read = chatChunkText(data);
          if (read !== undefined) {
            text += read;
            if (ctx.clientWantsUsage || !nullUsageTail) return [{ data }];
            return [{ data: `${data.slice(0, -USAGE_NULL_TAIL.length)}}` }];
          }
        }
      }
      let chunk: {
        model?: string;
        usage?: unknown;
        choices?: { delta?: { content?: string }; text?: string }[];
      };
      try {
        chunk = JSON.parse(data);
      } catch {
        return [{ data }];
      }
      model ??= chunk.model;
      for (const c of chunk.choices ?? []) text += c.delta?.content ?? c.text ?? '';
      if (chunk.usage) usage = usageFromOpenAI(chunk.usage as Parameters<typeof usageFromOpenAI>[0]) ?? usage;
      const parsed = chunk as Record<string, unknown>;
      if (ctx.clientWantsUsage || !('usage' in chunk)) return [{ data, chunk: parsed }];
      if (chunk.usage && (chunk.choices?.length ?? 0) === 0) return [];
      delete chunk.usage;
      // The usage Sluice forced shows as `"usage":null` on every chunk; OpenAI puts it last, so cut the
      // text instead of re-serializing the chunk (the hot path of every stream).
      if (data.endsWith(USAGE_NULL_TAIL))
        return [{ data: `${data.slice(0, -USAGE_NULL_TAIL.length)}}`, chunk: parsed }];
      return [{ data: JSON.stringify(chunk), chunk: parsed }];
    },
    usage: () => usage,
    model: () => model,
    complete: () => done,
    text: () => text,
  };
}

export function openAIError(json: unknown, status: number): Record<string, unknown> {
  const body = json as { error?: unknown } | undefined;
  if (body && typeof body.error === 'object') return body as Record<string, unknown>;
  return { error: { message: `provider answered ${status}`, type: 'upstream_error', code: null } };
}

export const openAIAdapter: ProviderAdapter = {
  genAiName: 'openai',
  // OpenAI has no rerank endpoint; the servers behind OpenAICompatible targets (vLLM, TEI…) do.
  supports: (op) => op !== 'rerank',
  request,
  response,
  streamConverter: (ctx) =>
    ctx.op === 'responses' ? responsesStreamConverter(ctx) : openAIStreamConverter(ctx),
  error: openAIError,
};

export const openAICompatibleAdapter: ProviderAdapter = {
  ...openAIAdapter,
  genAiName: 'openai_compatible',
  supports: () => true,
};
