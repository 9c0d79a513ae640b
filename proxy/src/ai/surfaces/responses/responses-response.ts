import { type Json, parseChunk } from '../translation.ts';

/**
 * Chat Completions answers as Responses API objects: a `response` with `output` items (a message
 * with `output_text`, `function_call` items), status (`incomplete` when the token limit cut it) and
 * usage; and the event stream (`response.created` … `response.output_text.delta` …
 * `response.completed`), every event numbered as the API numbers them.
 */

export function responseId(chatId: unknown): string {
  return `resp_${typeof chatId === 'string' ? chatId.replace(/[^A-Za-z0-9_-]/g, '') : 'sluice'}`;
}

export function responsesUsage(usage: unknown): Json | null {
  if (!usage) return null;
  const u = usage as {
    prompt_tokens?: number;
    completion_tokens?: number;
    total_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
    completion_tokens_details?: { reasoning_tokens?: number };
  };
  return {
    input_tokens: u.prompt_tokens ?? 0,
    input_tokens_details: { cached_tokens: u.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: u.completion_tokens ?? 0,
    output_tokens_details: { reasoning_tokens: u.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: u.total_tokens ?? (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0),
  };
}

/** The envelope every Response carries, with what varies filled in. */
function envelope(
  id: string,
  model: unknown,
  status: string,
  output: Json[],
  usage: Json | null,
  finish?: unknown,
): Json {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    error: null,
    incomplete_details: finish === 'length' ? { reason: 'max_output_tokens' } : null,
    model,
    output,
    parallel_tool_calls: true,
    tool_choice: 'auto',
    tools: [],
    store: false,
    usage,
  };
}

export function chatToResponse(chat: Json): Json {
  const id = responseId(chat.id);
  const choice = ((chat.choices as Json[] | undefined) ?? [])[0] ?? {};
  const msg = (choice.message ?? {}) as { content?: unknown; tool_calls?: Json[] };
  const output: Json[] = [];
  if (typeof msg.content === 'string' && msg.content !== '')
    output.push(messageItem(`msg_${id.slice(5)}`, msg.content, 'completed'));
  for (const call of msg.tool_calls ?? []) {
    const fn = (call.function ?? {}) as { name?: string; arguments?: string };
    output.push(functionCallItem(call.id, fn.name, fn.arguments ?? '', 'completed'));
  }
  const status = choice.finish_reason === 'length' ? 'incomplete' : 'completed';
  return envelope(id, chat.model, status, output, responsesUsage(chat.usage), choice.finish_reason);
}

function messageItem(id: string, text: string, status: string): Json {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [] }],
  };
}

function functionCallItem(callId: unknown, name: unknown, args: string, status: string): Json {
  return {
    type: 'function_call',
    id: `fc_${String(callId ?? '')}`,
    call_id: callId,
    name,
    arguments: args,
    status,
  };
}

/** Errors keep OpenAI's shape on this surface: only the envelope differs from chat. */
export function responsesError(_status: number, body: Json): Json {
  return body;
}

interface OpenItem {
  index: number;
  kind: 'text' | 'tool';
  toolIndex?: number;
  item: Json;
  text: string;
}

export class ChatToResponsesStream {
  #sequence = 0;
  #id = 'resp_sluice';
  #model: unknown;
  #started = false;
  #finished = false;
  #open: OpenItem | undefined;
  #done: Json[] = [];
  #finish: unknown;
  #usage: Json | null = null;

  data(payload: string): string {
    if (payload === '[DONE]') return this.finish();
    const chunk = parseChunk(payload);
    if (!chunk) return '';
    if (chunk.error) {
      this.#finished = true;
      const e = chunk.error as Json;
      return this.#event('error', { code: e.code ?? 'server_error', message: e.message, param: null });
    }
    let out = '';
    if (!this.#started) {
      this.#started = true;
      this.#id = responseId(chunk.id);
      this.#model = chunk.model;
      const response = envelope(this.#id, this.#model, 'in_progress', [], null);
      out +=
        this.#event('response.created', { response }) + this.#event('response.in_progress', { response });
    }
    const choice = ((chunk.choices as Json[] | undefined) ?? [])[0];
    const delta = (choice?.delta ?? {}) as {
      content?: unknown;
      tool_calls?: { index?: number; id?: string; function?: { name?: string; arguments?: string } }[];
    };
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.#open?.kind !== 'text')
        out += this.#openItem('text', messageItem(`msg_${this.#id.slice(5)}`, '', 'in_progress'));
      const open = this.#open!;
      open.text += delta.content;
      out += this.#event('response.output_text.delta', {
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        delta: delta.content,
        logprobs: [],
      });
    }
    for (const call of delta.tool_calls ?? []) {
      const toolIndex = call.index ?? 0;
      if (this.#open?.kind !== 'tool' || this.#open.toolIndex !== toolIndex)
        out += this.#openItem(
          'tool',
          functionCallItem(call.id, call.function?.name, '', 'in_progress'),
          toolIndex,
        );
      const args = call.function?.arguments;
      if (args) {
        this.#open!.text += args;
        out += this.#event('response.function_call_arguments.delta', {
          item_id: this.#open!.item.id,
          output_index: this.#open!.index,
          delta: args,
        });
      }
    }
    if (choice?.finish_reason) {
      this.#finish = choice.finish_reason;
      out += this.#closeItem();
    }
    if (chunk.usage) this.#usage = responsesUsage(chunk.usage);
    return out;
  }

  finish(): string {
    if (this.#finished || !this.#started) return '';
    this.#finished = true;
    const status = this.#finish === 'length' ? 'incomplete' : 'completed';
    const response = envelope(this.#id, this.#model, status, this.#done, this.#usage, this.#finish);
    return (
      this.#closeItem() +
      this.#event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response })
    );
  }

  #openItem(kind: 'text' | 'tool', item: Json, toolIndex?: number): string {
    let out = this.#closeItem();
    this.#open = { index: this.#done.length, kind, toolIndex, item, text: '' };
    out += this.#event('response.output_item.added', { output_index: this.#open.index, item });
    if (kind === 'text')
      out += this.#event('response.content_part.added', {
        item_id: item.id,
        output_index: this.#open.index,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [] },
      });
    return out;
  }

  #closeItem(): string {
    const open = this.#open;
    if (!open) return '';
    this.#open = undefined;
    let out = '';
    let item: Json;
    if (open.kind === 'text') {
      const part = { type: 'output_text', text: open.text, annotations: [] };
      out += this.#event('response.output_text.done', {
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        text: open.text,
        logprobs: [],
      });
      out += this.#event('response.content_part.done', {
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        part,
      });
      item = { ...open.item, status: 'completed', content: [part] };
    } else {
      out += this.#event('response.function_call_arguments.done', {
        item_id: open.item.id,
        output_index: open.index,
        arguments: open.text,
      });
      item = { ...open.item, status: 'completed', arguments: open.text };
    }
    this.#done.push(item);
    return out + this.#event('response.output_item.done', { output_index: open.index, item });
  }

  #event(type: string, data: Json): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.#sequence++, ...data })}\n\n`;
  }
}
