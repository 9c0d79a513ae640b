import type { ClientEvent } from '../../../client-api/client-event.ts';
import type { TokenUsage } from '../../../usage/usage.ts';
import type { SseEvent } from '../../sse.ts';
import type { ProviderContext, StreamConverter } from '../adapter.ts';
import { built, choiceChunk, streamEnd } from '../translated-chat.ts';
import { type GeminiResponse, textOf, toolCallsOf } from './gemini-response.ts';
import { finishReason, type GeminiUsage, usageFromGemini } from './gemini-usage.ts';

/**
 * Gemini `streamGenerateContent?alt=sse` events → OpenAI chat chunks. Each event is a partial
 * response: text deltas, whole function calls, and usage that is cumulative (the latest wins). The
 * stream has no end marker of its own: it is complete once every candidate has a finishReason.
 */
export function geminiStreamConverter(ctx: ProviderContext): StreamConverter {
  let id = '';
  let model: string | undefined;
  let usage: GeminiUsage | undefined;
  let done = false;
  let text = '';
  let started = false;
  let toolIndex = -1;
  const calledTools = new Set<number>();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (index: number, delta: Record<string, unknown>, finish: string | null = null): ClientEvent =>
    choiceChunk({ id, created, model }, delta, finish, index);

  return {
    convert(event: SseEvent): ClientEvent[] {
      let data: GeminiResponse & { error?: { message?: string; status?: string } };
      try {
        data = JSON.parse(event.data);
      } catch {
        return [];
      }
      if (data.error) {
        // The provider ended the stream itself and said why: relay it, and count tokens locally.
        done = true;
        usage = undefined;
        return [
          built({
            error: {
              message: data.error.message ?? 'provider error',
              type: data.error.status ?? 'upstream_error',
              code: null,
            },
          }),
        ];
      }
      id ||= data.responseId ?? 'gemini';
      model ??= data.modelVersion;
      if (data.usageMetadata) usage = data.usageMetadata;
      const out: ClientEvent[] = [];
      if (!started) {
        started = true;
        out.push(chunk(0, { role: 'assistant', content: '' }));
      }
      let finished = (data.candidates?.length ?? 0) > 0;
      for (const [i, c] of (data.candidates ?? []).entries()) {
        const index = c.index ?? i;
        const delta = textOf(c.content?.parts);
        if (delta !== '') {
          text += delta;
          out.push(chunk(index, { content: delta }));
        }
        const calls = toolCallsOf(c.content?.parts, `call_${id}_${index}`);
        if (calls.length > 0) {
          calledTools.add(index);
          out.push(chunk(index, { tool_calls: calls.map((call) => ({ index: ++toolIndex, ...call })) }));
        }
        const finish = finishReason(c.finishReason, calledTools.has(index));
        if (finish) out.push(chunk(index, {}, finish));
        else finished = false;
      }
      if (finished) {
        done = true;
        out.push(...streamEnd(ctx.clientWantsUsage, { id, created, model }, usage && usageFromGemini(usage)));
      }
      return out;
    },
    usage: (): TokenUsage | undefined => (done && usage ? usageFromGemini(usage) : undefined),
    model: () => model,
    complete: () => done,
    text: () => text,
  };
}
