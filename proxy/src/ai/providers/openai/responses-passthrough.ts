import type { ClientEvent } from '../../../client-api/client-event.ts';
import { type TokenUsage, usageFromOpenAI } from '../../../usage/usage.ts';
import type { SseEvent } from '../../sse.ts';
import { storedIdRewriter, withStoredId } from '../../stored-responses.ts';
import type { ConvertedResponse, ProviderContext, StreamConverter } from '../adapter.ts';

/** The Responses API passed through (OpenAI, Azure OpenAI): usage read, the response id made routable. */
export function responsesAnswer(json: unknown, ctx: ProviderContext): ConvertedResponse {
  const body = json as Record<string, unknown>;
  withStoredId(body, storedAt(ctx));
  return {
    body,
    usage: usageFromOpenAI(body.usage as Parameters<typeof usageFromOpenAI>[0]),
    model: typeof body.model === 'string' ? body.model : undefined,
  };
}

/** Events that end a response: each carries the whole Response, usage included. */
const FINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** A Responses event stream relayed as it came (event names kept), with its usage and text read. */
export function responsesStreamConverter(ctx: ProviderContext): StreamConverter {
  let usage: TokenUsage | undefined;
  let model: string | undefined;
  let done = false;
  let text = '';
  const rewrite = storedIdRewriter(storedAt(ctx));
  return {
    convert(event: SseEvent): ClientEvent[] {
      const named = event.event ? { event: event.event } : {};
      let chunk: { type?: string; delta?: unknown; response?: { usage?: unknown; model?: unknown } };
      try {
        chunk = JSON.parse(event.data);
      } catch {
        return [{ data: event.data, ...named }];
      }
      if (chunk.type === 'response.output_text.delta' && typeof chunk.delta === 'string') text += chunk.delta;
      if (typeof chunk.response?.model === 'string') model ??= chunk.response.model;
      if (chunk.type && FINAL.has(chunk.type)) {
        done = true;
        usage = usageFromOpenAI(chunk.response?.usage as Parameters<typeof usageFromOpenAI>[0]) ?? usage;
      }
      return [rewrite({ data: event.data, chunk: chunk as Record<string, unknown>, ...named })];
    },
    usage: () => usage,
    model: () => model,
    complete: () => done,
    text: () => text,
  };
}

function storedAt(ctx: ProviderContext) {
  return { model: ctx.model, backend: ctx.backend, target: ctx.target.name };
}
