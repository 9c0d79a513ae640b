import type { IncomingMessage, ServerResponse } from 'node:http';
import { SURFACE_BY_PATH, type SurfaceKind } from '../../client-api/operations.ts';
import { countTokens } from '../local-token-count.ts';
import { messagesToChat } from './anthropic/messages-request.ts';
import { anthropicError, chatToMessage } from './anthropic/messages-response.ts';
import { ChatToMessagesStream } from './anthropic/messages-stream.ts';
import { responsesToChat } from './responses/responses-request.ts';
import { ChatToResponsesStream, chatToResponse, responsesError } from './responses/responses-response.ts';
import { speakSurface } from './speak-surface.ts';
import type { Json, Translated } from './translation.ts';

export interface ClientSurface {
  kind: SurfaceKind;
  /** The surface's request body as the Chat Completions request the pipeline serves. */
  translate(body: Json): Translated;
  /** `count_tokens` only: the input tokens of a (translated) request, answered without a provider call. */
  answerCount?(chat: Json): Promise<void>;
  /** Responses only: the request goes natively to the provider, so the answer is relayed as it is. */
  passThrough?(): void;
}

/**
 * Enters a client surface for its path (`POST /v1/messages`, `/v1/messages/count_tokens`,
 * `/v1/responses`): from here on the response speaks that API, errors included. Anthropic SDKs'
 * `x-api-key` is taken as the bearer key SecurityPolicy API keys and TokenRateLimitPolicy identity
 * read. Other paths: undefined (the chat, completions and embeddings paths need no surface).
 */
export function enterClientSurface(
  path: string,
  raw: IncomingMessage,
  res: ServerResponse,
): ClientSurface | undefined {
  const kind = SURFACE_BY_PATH[path];
  if (!kind) return undefined;
  if (kind === 'responses') {
    const spoken = speakSurface(res, {
      answer: chatToResponse,
      error: responsesError,
      stream: () => new ChatToResponsesStream(),
    });
    return {
      kind,
      translate: responsesToChat,
      passThrough: spoken.passThrough,
    };
  }
  const apiKey = raw.headers['x-api-key'];
  if (typeof apiKey === 'string' && raw.headers.authorization === undefined)
    raw.headers.authorization = `Bearer ${apiKey}`;
  const native = speakSurface(res, {
    answer: chatToMessage,
    error: anthropicError,
    stream: () => new ChatToMessagesStream(),
  });
  return {
    kind,
    // count_tokens takes no max_tokens; the translation wants one, and the count does not depend on it.
    translate: (body) => messagesToChat(kind === 'count_tokens' ? { max_tokens: 1, ...body } : body),
    ...(kind === 'count_tokens'
      ? {
          answerCount: async (chat: Json) => {
            const counts = await countTokens(promptTexts(chat));
            native.sendNative(200, { input_tokens: counts.reduce((a, b) => a + b, 0) });
          },
        }
      : {}),
  };
}

/** Every text of a chat request a model reads: messages, tool calls and results, tool definitions. */
function promptTexts(chat: Json): string[] {
  const texts: string[] = [];
  for (const m of (chat.messages as Json[]) ?? []) {
    if (typeof m.content === 'string') texts.push(m.content);
    else if (Array.isArray(m.content))
      for (const p of m.content as Json[]) if (typeof p.text === 'string') texts.push(p.text);
    if (m.tool_calls) texts.push(JSON.stringify(m.tool_calls));
  }
  if (chat.tools) texts.push(JSON.stringify(chat.tools));
  return texts;
}
