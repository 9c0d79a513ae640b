import type { ClientEvent } from '../../../client-api/client-event.ts';
import type { TokenUsage } from '../../../usage/usage.ts';
import type { SseEvent } from '../../sse.ts';
import type { ProviderContext, StreamConverter } from '../adapter.ts';
import { built, choiceChunk, streamEnd } from '../translated-chat.ts';
import { type AnthropicUsage, finishReason, usageFromAnthropic } from './anthropic-usage.ts';

interface AnthropicEvent {
  type?: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: AnthropicUsage };
  content_block?: { type?: string; id?: string; name?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string };
  usage?: AnthropicUsage;
  error?: { type?: string; message?: string };
}

/**
 * Anthropic stream events → OpenAI chat chunks. Usage arrives in message_start (input) and
 * message_delta (cumulative output: assigned, never added).
 */
export function anthropicStreamConverter(ctx: ProviderContext): StreamConverter {
  let id = '';
  let model: string | undefined;
  let usage: AnthropicUsage = {};
  let sawUsage = false;
  let done = false;
  let text = '';
  let toolIndex = -1;
  const blockToTool = new Map<number, number>();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): ClientEvent =>
    choiceChunk({ id, created, model }, delta, finish);

  return {
    convert(event: SseEvent): ClientEvent[] {
      let data: AnthropicEvent;
      try {
        data = JSON.parse(event.data);
      } catch {
        return [];
      }
      switch (data.type) {
        case 'message_start':
          id = data.message?.id ?? '';
          model = data.message?.model;
          usage = { ...data.message?.usage };
          sawUsage = true;
          return [chunk({ role: 'assistant', content: '' })];
        case 'content_block_start': {
          const block = data.content_block;
          if (block?.type !== 'tool_use') return [];
          toolIndex++;
          blockToTool.set(data.index ?? 0, toolIndex);
          return [
            chunk({
              tool_calls: [
                {
                  index: toolIndex,
                  id: block.id,
                  type: 'function',
                  function: { name: block.name, arguments: '' },
                },
              ],
            }),
          ];
        }
        case 'content_block_delta': {
          const d = data.delta;
          if (d?.type === 'text_delta') {
            text += d.text ?? '';
            return [chunk({ content: d.text ?? '' })];
          }
          if (d?.type === 'input_json_delta')
            return [
              chunk({
                tool_calls: [
                  { index: blockToTool.get(data.index ?? 0) ?? 0, function: { arguments: d.partial_json } },
                ],
              }),
            ];
          return [];
        }
        case 'message_delta':
          usage = { ...usage, ...data.usage };
          return [chunk({}, finishReason(data.delta?.stop_reason))];
        case 'message_stop':
          done = true;
          return streamEnd(ctx.clientWantsUsage, { id, created, model }, usageFromAnthropic(usage));
        case 'error':
          // The provider ended the stream itself and said why: relay that, and count tokens locally
          // since the usage so far is provisional.
          done = true;
          sawUsage = false;
          return [
            built({
              error: {
                message: data.error?.message ?? 'provider error',
                type: data.error?.type ?? 'upstream_error',
                code: null,
              },
            }),
          ];
        default:
          return [];
      }
    },
    usage: (): TokenUsage | undefined => (done && sawUsage ? usageFromAnthropic(usage) : undefined),
    model: () => model,
    complete: () => done,
    text: () => text,
  };
}
