import { replyWords } from './tokens.ts';

export interface ChatRequest {
  model?: string;
  messages?: { role: string; content?: string | { type?: string; text?: string }[] }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: string; function: { name: string } }[];
  n?: number;
}

export interface Usage {
  prompt: number;
  completion: number;
  cached: number;
  reasoning: number;
  /** Prompt tokens written to the prompt cache (Anthropic and Bedrock report them). */
  cacheWrite?: number;
}

export function openaiUsage(u: Usage) {
  return {
    prompt_tokens: u.prompt,
    completion_tokens: u.completion,
    total_tokens: u.prompt + u.completion,
    prompt_tokens_details: { cached_tokens: u.cached },
    completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
}

/** A full chat completion: text, or a call of the first tool when the request offers tools. */
export function chatCompletion(
  name: string,
  req: ChatRequest,
  model: string,
  u: Usage,
  id: string,
  words?: string[],
) {
  const n = req.n ?? 1;
  const tool = req.tools?.[0]?.function.name;
  const choices = Array.from({ length: n }, (_, index) => ({
    index,
    message: tool
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: `call_${id}`, type: 'function', function: { name: tool, arguments: '{"city":"Paris"}' } },
          ],
        }
      : { role: 'assistant', content: (words ?? replyWords(name, u.completion / n)).join(' ') },
    logprobs: null,
    finish_reason: tool ? 'tool_calls' : 'stop',
  }));
  return { id, object: 'chat.completion', created: 1_700_000_000, model, choices, usage: openaiUsage(u) };
}

export function chunk(
  id: string,
  model: string,
  delta: Record<string, unknown>,
  finish: string | null,
  withUsageNull: boolean,
) {
  return {
    id,
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(withUsageNull ? { usage: null } : {}),
  };
}
