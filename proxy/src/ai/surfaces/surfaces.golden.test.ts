import { join } from 'node:path';
import { goldenFiles } from '../golden-files.ts';
import { SseParser } from '../sse.ts';
import { messagesToChat } from './anthropic/messages-request.ts';
import { anthropicError, chatToMessage } from './anthropic/messages-response.ts';
import { ChatToMessagesStream } from './anthropic/messages-stream.ts';
import { responsesToChat } from './responses/responses-request.ts';
import { ChatToResponsesStream, chatToResponse, responsesError } from './responses/responses-response.ts';
import type { Json, Translated } from './translation.ts';

interface Surface {
  name: string;
  dir: string;
  request(body: Json): Translated;
  answer(chat: Json): Json;
  stream(): { data(payload: string): string; finish(): string };
  error(status: number, body: Json): Json;
}

/** Timestamps a translation takes from the clock, shown as 0. */
function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'created_at' || k === 'created' ? 0 : stable(v)]),
  );
}

/**
 * Golden cases of each client surface over the chat pipeline: request-* (the surface's request → the
 * Chat Completions request, or the 400 it gets), response-* (a chat completion → the surface's
 * answer), stream-* (chat chunk payloads, `[DONE]` included → the surface's event sequence) and
 * error-* (`{status, body}` of a pipeline error → the surface's error shape).
 */
for (const s of [
  {
    name: 'OpenAI Responses',
    dir: join(import.meta.dirname, 'responses', 'testdata'),
    request: responsesToChat,
    answer: chatToResponse,
    stream: () => new ChatToResponsesStream(),
    error: responsesError,
  },
  {
    name: 'Anthropic Messages',
    dir: join(import.meta.dirname, 'anthropic', 'testdata'),
    request: messagesToChat,
    answer: chatToMessage,
    stream: () => new ChatToMessagesStream(),
    error: anthropicError,
  },
] satisfies Surface[])
  goldenFiles(
    s.dir,
    `${s.name} ⇄ Chat Completions golden cases`,
    ['request', 'response', 'stream', 'error'],
    (name, input) => {
      if (name.startsWith('request-')) return s.request(input as Json);
      if (name.startsWith('response-')) return stable(s.answer(input as Json));
      if (name.startsWith('error-')) {
        const e = input as { status: number; body: Json };
        return s.error(e.status, e.body);
      }
      const converter = s.stream();
      const text =
        (input as (Json | string)[])
          .map((c) => converter.data(typeof c === 'string' ? c : JSON.stringify(c)))
          .join('') + converter.finish();
      return new SseParser()
        .push(Buffer.from(text))
        .map((e) => ({ event: e.event ?? null, data: stable(JSON.parse(e.data)) }));
    },
  );
