import type { AIOperation } from '../client-api/operations.ts';

type Choice = {
  index?: number;
  text?: string;
  finish_reason?: string | null;
  message?: { role?: string; content?: string | null; tool_calls?: Record<string, unknown>[] };
};

/**
 * A Response (the Responses API passed through) as the two events that frame it in a stream: created
 * (in progress, no output yet) and completed (the whole Response, usage included).
 */
export function responseAsStream(response: Record<string, unknown>): string {
  const event = (type: string, sequence: number, r: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, response: r })}\n\n`;
  return (
    event('response.created', 0, { ...response, status: 'in_progress', output: [], usage: null }) +
    event('response.completed', 1, response)
  );
}

/**
 * An OpenAI answer (a chat completion or a legacy text completion) as the event stream OpenAI would
 * have sent for it: one chunk with each choice's content, one with its finish reason, the usage chunk,
 * and `[DONE]`. For servers that answer JSON although the request asked for a stream: the client
 * still gets the stream it asked for, and its usage is counted as for any stream.
 */
export function answerAsStream(answer: Record<string, unknown>, op: AIOperation): string {
  const head = {
    id: answer.id,
    object: op === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: answer.created,
    model: answer.model,
  };
  const choices = (Array.isArray(answer.choices) ? answer.choices : []) as Choice[];
  const events: unknown[] = [];
  for (const [i, c] of choices.entries()) {
    const index = c.index ?? i;
    if (op === 'chat') {
      const m = c.message ?? {};
      const toolCalls = m.tool_calls?.map((call, n) => ({ index: n, ...call }));
      events.push({
        ...head,
        choices: [
          {
            index,
            delta: {
              role: 'assistant',
              content: m.content ?? null,
              ...(toolCalls ? { tool_calls: toolCalls } : {}),
            },
            logprobs: null,
            finish_reason: null,
          },
        ],
      });
      events.push({
        ...head,
        choices: [{ index, delta: {}, logprobs: null, finish_reason: c.finish_reason ?? 'stop' }],
      });
    } else
      events.push({
        ...head,
        choices: [{ index, text: c.text ?? '', logprobs: null, finish_reason: c.finish_reason ?? 'stop' }],
      });
  }
  if (answer.usage) events.push({ ...head, choices: [], usage: answer.usage });
  return `${events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')}data: [DONE]\n\n`;
}
