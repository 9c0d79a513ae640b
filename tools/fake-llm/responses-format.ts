import type { ServerResponse } from 'node:http';
import type { Usage } from './openai-format.ts';
import { contentText, countWords } from './tokens.ts';

/**
 * OpenAI's Responses API as the fake keeps it: responses are stored (unless `store: false`), a
 * follow-up's `previous_response_id` reads the earlier turns (counted as input, as OpenAI bills them),
 * and stored responses can be retrieved, listed and deleted. Only this fake's own ids are known: a
 * response stored by another fake (another account) is "not found", as it would be at OpenAI.
 */
export interface StoredFakeResponse {
  response: Record<string, unknown>;
  input: Record<string, unknown>[];
  /** Input and output tokens of every turn up to this one: what a follow-up reads again. */
  contextTokens: number;
}

export type ResponsesStore = Map<string, StoredFakeResponse>;

export interface ResponsesRequest {
  model?: string;
  input?: string | Record<string, unknown>[];
  instructions?: string;
  previous_response_id?: string;
  store?: boolean;
  stream?: boolean;
  tools?: { type?: string; name?: string }[];
}

/** The request's own input tokens (instructions and every item's text), and its items as stored. */
export function responsesInput(body: ResponsesRequest): { tokens: number; items: Record<string, unknown>[] } {
  const items =
    typeof body.input === 'string'
      ? [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: body.input }] }]
      : (body.input ?? []);
  const text = items.map((i) => contentText(i.content as never) || String(i.output ?? i.arguments ?? ''));
  return { tokens: countWords(body.instructions ?? '') + text.reduce((n, t) => n + countWords(t), 0), items };
}

/** The first function tool offered, which the fake calls (as its chat endpoint does) instead of answering text. */
export function offeredFunction(body: ResponsesRequest): string | undefined {
  return body.tools?.find((t) => t.type === 'function' && typeof t.name === 'string')?.name;
}

/** The call the fake makes: the first function tool, with arguments streamed in two pieces. */
const CALL_ARGUMENTS = ['{"city":', '"Paris"}'];

export function responseObject(
  id: string,
  body: ResponsesRequest,
  text: string,
  u: Usage,
): Record<string, unknown> {
  const tool = offeredFunction(body);
  const output = tool
    ? {
        type: 'function_call',
        id: `fc_${id}`,
        call_id: `call_${id}`,
        name: tool,
        arguments: CALL_ARGUMENTS.join(''),
        status: 'completed',
      }
    : {
        type: 'message',
        id: `msg_${id}`,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text, annotations: [] }],
      };
  return {
    id,
    object: 'response',
    created_at: 1_700_000_000,
    status: 'completed',
    error: null,
    incomplete_details: null,
    model: body.model ?? '',
    previous_response_id: body.previous_response_id ?? null,
    store: body.store !== false,
    tools: body.tools ?? [],
    output: [output],
    usage: {
      input_tokens: u.prompt,
      input_tokens_details: { cached_tokens: u.cached },
      output_tokens: u.completion,
      output_tokens_details: { reasoning_tokens: u.reasoning },
      total_tokens: u.prompt + u.completion,
    },
  };
}

/** The event sequence OpenAI streams for a one-item answer (a message, or a function call), numbered. */
export async function streamResponse(
  res: ServerResponse,
  response: Record<string, unknown>,
  words: string[],
  pause: () => Promise<void>,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sequence = 0;
  const send = (type: string, data: Record<string, unknown>) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null };
  const item = (response.output as Record<string, unknown>[])[0]!;
  const at = { item_id: item.id, output_index: 0 };
  send('response.created', { response: inProgress });
  send('response.in_progress', { response: inProgress });
  if (item.type === 'function_call') {
    send('response.output_item.added', {
      output_index: 0,
      item: { ...item, status: 'in_progress', arguments: '' },
    });
    for (const piece of CALL_ARGUMENTS)
      send('response.function_call_arguments.delta', { ...at, delta: piece });
    send('response.function_call_arguments.done', { ...at, arguments: item.arguments });
  } else {
    const part = (item.content as Record<string, unknown>[])[0]!;
    send('response.output_item.added', {
      output_index: 0,
      item: { ...item, status: 'in_progress', content: [] },
    });
    send('response.content_part.added', { ...at, content_index: 0, part: { ...part, text: '' } });
    for (const [i, w] of words.entries()) {
      if (i > 0) await pause();
      send('response.output_text.delta', {
        ...at,
        content_index: 0,
        delta: i === 0 ? w : ` ${w}`,
        logprobs: [],
      });
    }
    send('response.output_text.done', { ...at, content_index: 0, text: part.text, logprobs: [] });
    send('response.content_part.done', { ...at, content_index: 0, part });
  }
  send('response.output_item.done', { output_index: 0, item });
  send('response.completed', { response });
  res.end();
}
