import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANTHROPIC_SURFACE_BY_PATH } from '../../../client-api/operations.ts';
import { countTokens } from '../../local-token-count.ts';
import { messagesToChat, type Translated } from './messages-request.ts';
import { speakAnthropic } from './speak-anthropic.ts';

export interface AnthropicSurface {
  kind: 'messages' | 'count_tokens';
  /** The Messages body as the Chat Completions request the pipeline serves. */
  translate(body: Record<string, unknown>): Translated;
  /** `count_tokens`: the input tokens of a (translated) request, answered without a provider call. */
  answerCount(chat: Record<string, unknown>): Promise<void>;
}

/**
 * Enters the Anthropic surface for `POST /v1/messages[/count_tokens]`: the response speaks Anthropic
 * from here on (errors included), and Anthropic SDKs' `x-api-key` is taken as the bearer key that
 * SecurityPolicy API keys and TokenRateLimitPolicy identity read. Other paths: undefined.
 */
export function enterAnthropicSurface(
  path: string,
  raw: IncomingMessage,
  res: ServerResponse,
): AnthropicSurface | undefined {
  const kind = ANTHROPIC_SURFACE_BY_PATH[path];
  if (!kind) return undefined;
  const apiKey = raw.headers['x-api-key'];
  if (typeof apiKey === 'string' && raw.headers.authorization === undefined)
    raw.headers.authorization = `Bearer ${apiKey}`;
  const native = speakAnthropic(res);
  return {
    kind,
    // count_tokens takes no max_tokens; the translation wants one, and the count does not depend on it.
    translate: (body) => messagesToChat(kind === 'count_tokens' ? { max_tokens: 1, ...body } : body),
    answerCount: async (chat) => {
      const counts = await countTokens(promptTexts(chat));
      native.sendNative(200, { input_tokens: counts.reduce((a, b) => a + b, 0) });
    },
  };
}

/** Every text of a chat request a model reads: messages, tool calls and results, tool definitions. */
function promptTexts(chat: Record<string, unknown>): string[] {
  const texts: string[] = [];
  for (const m of (chat.messages as Record<string, unknown>[]) ?? []) {
    if (typeof m.content === 'string') texts.push(m.content);
    else if (Array.isArray(m.content))
      for (const p of m.content as Record<string, unknown>[])
        if (typeof p.text === 'string') texts.push(p.text);
    if (m.tool_calls) texts.push(JSON.stringify(m.tool_calls));
  }
  if (chat.tools) texts.push(JSON.stringify(chat.tools));
  return texts;
}
