import type { Json } from '../translation.ts';
/**
 * The pipeline's Chat Completions answers as the Anthropic Messages API returns them: a message with
 * content blocks, stop reason and usage, and errors in Anthropic's error shape, so Anthropic SDKs
 * raise their own error classes.
 */

/** OpenAI `finish_reason` → Anthropic `stop_reason`. */
export function stopReason(finish: unknown): string | null {
  switch (finish) {
    case 'stop':
      return 'end_turn';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return finish === null || finish === undefined ? null : 'end_turn';
  }
}

export function messageId(chatId: unknown): string {
  return `msg_${typeof chatId === 'string' ? chatId.replace(/[^A-Za-z0-9_-]/g, '') : 'sluice'}`;
}

export function anthropicUsage(usage: unknown): Json {
  const u = (usage ?? {}) as {
    prompt_tokens?: number;
    completion_tokens?: number;
    prompt_tokens_details?: { cached_tokens?: number };
  };
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: (u.prompt_tokens ?? 0) - cached,
    output_tokens: u.completion_tokens ?? 0,
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
}

/** `arguments` is JSON text a model wrote; a broken one is passed on as text rather than lost. */
export function toolInput(args: unknown): unknown {
  if (typeof args !== 'string' || args === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    return { _unparsed_arguments: args };
  }
}

export function chatToMessage(chat: Json): Json {
  const choice = ((chat.choices as Json[] | undefined) ?? [])[0] ?? {};
  const msg = (choice.message ?? {}) as { content?: unknown; tool_calls?: Json[] };
  const content: Json[] = [];
  if (typeof msg.content === 'string' && msg.content !== '')
    content.push({ type: 'text', text: msg.content });
  for (const call of msg.tool_calls ?? []) {
    const fn = (call.function ?? {}) as { name?: string; arguments?: string };
    content.push({ type: 'tool_use', id: call.id, name: fn.name, input: toolInput(fn.arguments) });
  }
  return {
    id: messageId(chat.id),
    type: 'message',
    role: 'assistant',
    model: chat.model,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(chat.usage),
  };
}

/** Anthropic's error `type` for an HTTP status, as its API documents them. */
function errorType(status: number): string {
  if (status === 400 || status === 422) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  return 'api_error';
}

/** An OpenAI-shaped error body (the one error catalog renders) in Anthropic's shape. */
export function anthropicError(status: number, body: unknown): Json {
  const e = ((body as { error?: Json } | undefined)?.error ?? {}) as { message?: unknown };
  return {
    type: 'error',
    error: { type: errorType(status), message: typeof e.message === 'string' ? e.message : `HTTP ${status}` },
  };
}
