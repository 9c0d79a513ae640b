import { type Json, parseChunk } from '../translation.ts';
import { anthropicError, anthropicUsage, messageId, stopReason } from './messages-response.ts';

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

/**
 * Chat Completions stream chunks → the Messages event sequence: `message_start`, then per content
 * block `content_block_start` / `content_block_delta` (text_delta, input_json_delta) /
 * `content_block_stop`, then `message_delta` (stop reason, usage) and `message_stop`. One instance per
 * response; it returns the SSE text to write for each chunk it is given.
 */
export class ChatToMessagesStream {
  #started = false;
  #stopped = false;
  #open: { index: number; kind: 'text' | 'tool'; toolIndex?: number } | undefined;
  #blocks = 0;
  #stopReason: string | null = null;
  #usage: Json | undefined;

  /** One `data:` payload of the pipeline's stream. */
  data(payload: string): string {
    if (payload === '[DONE]') return this.finish();
    const chunk = parseChunk(payload);
    if (!chunk) return '';
    if (chunk.error) {
      this.#stopped = true;
      return event('error', anthropicError(500, chunk));
    }
    let out = '';
    if (!this.#started) {
      this.#started = true;
      out += event('message_start', {
        type: 'message_start',
        message: {
          id: messageId(chunk.id),
          type: 'message',
          role: 'assistant',
          model: chunk.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      });
    }
    const choice = ((chunk.choices as Json[] | undefined) ?? [])[0];
    const delta = (choice?.delta ?? {}) as { content?: unknown; tool_calls?: ToolCallDelta[] };
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.#open?.kind !== 'text') out += this.#openBlock('text', { type: 'text', text: '' });
      out += event('content_block_delta', {
        type: 'content_block_delta',
        index: this.#open!.index,
        delta: { type: 'text_delta', text: delta.content },
      });
    }
    for (const call of delta.tool_calls ?? []) {
      const toolIndex = call.index ?? 0;
      if (this.#open?.kind !== 'tool' || this.#open.toolIndex !== toolIndex)
        out += this.#openBlock(
          'tool',
          { type: 'tool_use', id: call.id, name: call.function?.name, input: {} },
          toolIndex,
        );
      if (call.function?.arguments)
        out += event('content_block_delta', {
          type: 'content_block_delta',
          index: this.#open!.index,
          delta: { type: 'input_json_delta', partial_json: call.function.arguments },
        });
    }
    if (choice?.finish_reason) {
      out += this.#closeBlock();
      this.#stopReason = stopReason(choice.finish_reason);
    }
    if (chunk.usage) this.#usage = anthropicUsage(chunk.usage);
    return out;
  }

  /** The closing events, once: on `[DONE]`, or when the pipeline ends the response without it. */
  finish(): string {
    if (this.#stopped || !this.#started) return '';
    this.#stopped = true;
    return (
      this.#closeBlock() +
      event('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: this.#stopReason ?? 'end_turn', stop_sequence: null },
        usage: this.#usage ?? { output_tokens: 0 },
      }) +
      event('message_stop', { type: 'message_stop' })
    );
  }

  #openBlock(kind: 'text' | 'tool', block: Json, toolIndex?: number): string {
    const closed = this.#closeBlock();
    this.#open = { index: this.#blocks++, kind, toolIndex };
    return (
      closed +
      event('content_block_start', {
        type: 'content_block_start',
        index: this.#open.index,
        content_block: block,
      })
    );
  }

  #closeBlock(): string {
    if (!this.#open) return '';
    const index = this.#open.index;
    this.#open = undefined;
    return event('content_block_stop', { type: 'content_block_stop', index });
  }
}

function event(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
