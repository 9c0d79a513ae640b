import type { ClientEvent } from '../../../client-api/client-event.ts';
import type { TokenUsage } from '../../../usage/usage.ts';
import type { SseEvent } from '../../sse.ts';
import type { ProviderContext, StreamConverter } from '../adapter.ts';
import { built, choiceChunk, streamEnd } from '../translated-chat.ts';
import { type ConverseUsage, finishReason, usageFromConverse } from './bedrock-response.ts';
import { EXCEPTION_EVENT_PREFIX } from './event-stream.ts';

interface StreamPayload {
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId?: string; name?: string } };
  delta?: { text?: string; toolUse?: { input?: string } };
  stopReason?: string;
  usage?: ConverseUsage;
  message?: string;
}

/**
 * ConverseStream events (decoded from AWS event-stream frames, see event-stream.ts) → OpenAI chat
 * chunks: text deltas as content, a `toolUse` block start as a tool call (id and name) and its input
 * deltas as argument fragments. `messageStop` carries the stop reason, then `metadata` the usage;
 * the stream is complete once both have come.
 */
export function bedrockStreamConverter(ctx: ProviderContext): StreamConverter {
  const id = `chatcmpl-bedrock-${Date.now().toString(36)}`;
  const model = ctx.upstreamModel;
  const created = Math.floor(Date.now() / 1000);
  let usage: ConverseUsage | undefined;
  let stopped = false;
  let done = false;
  let text = '';
  /** OpenAI tool-call index of each Converse content block that is a tool call. */
  const toolIndexOf = new Map<number, number>();
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): ClientEvent =>
    choiceChunk({ id, created, model }, delta, finish);

  return {
    convert(event: SseEvent): ClientEvent[] {
      let data: StreamPayload;
      try {
        data = JSON.parse(event.data);
      } catch {
        return [];
      }
      const type = event.event ?? '';
      if (type.startsWith(EXCEPTION_EVENT_PREFIX)) {
        // Bedrock ended the stream itself and said why: relay it, and count tokens locally.
        done = true;
        usage = undefined;
        return [
          built({
            error: {
              message: data.message ?? 'provider error',
              type: type.slice(EXCEPTION_EVENT_PREFIX.length),
              code: null,
            },
          }),
        ];
      }
      const block = data.contentBlockIndex ?? 0;
      switch (type) {
        case 'messageStart':
          return [chunk({ role: 'assistant', content: '' })];
        case 'contentBlockStart': {
          const tool = data.start?.toolUse;
          if (!tool) return [];
          const index = toolIndexOf.size;
          toolIndexOf.set(block, index);
          return [
            chunk({
              tool_calls: [
                { index, id: tool.toolUseId, type: 'function', function: { name: tool.name, arguments: '' } },
              ],
            }),
          ];
        }
        case 'contentBlockDelta': {
          const delta = data.delta;
          if (typeof delta?.text === 'string' && delta.text !== '') {
            text += delta.text;
            return [chunk({ content: delta.text })];
          }
          const input = delta?.toolUse?.input;
          const index = toolIndexOf.get(block);
          if (typeof input === 'string' && index !== undefined)
            return [chunk({ tool_calls: [{ index, function: { arguments: input } }] })];
          return [];
        }
        case 'messageStop':
          stopped = true;
          return [chunk({}, finishReason(data.stopReason))];
        case 'metadata':
          usage = data.usage;
          if (!stopped) return [];
          done = true;
          return streamEnd(ctx.clientWantsUsage, { id, created, model }, usage && usageFromConverse(usage));
        default:
          return [];
      }
    },
    usage: (): TokenUsage | undefined => (done && usage ? usageFromConverse(usage) : undefined),
    model: () => model,
    complete: () => done,
    text: () => text,
  };
}
