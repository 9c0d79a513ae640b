import type { Usage } from './openai-format.ts';
import { replyWords } from './tokens.ts';

export interface MessagesRequest {
  model?: string;
  system?: string | { type?: string; text?: string }[];
  messages?: { role: string; content?: string | { type?: string; text?: string }[] }[];
  max_tokens?: number;
  stream?: boolean;
  tools?: { name: string }[];
}

export function anthropicUsage(u: Usage) {
  return {
    input_tokens: u.prompt - u.cached - (u.cacheWrite ?? 0),
    output_tokens: u.completion,
    cache_read_input_tokens: u.cached,
    cache_creation_input_tokens: u.cacheWrite ?? 0,
  };
}

export function message(name: string, req: MessagesRequest, model: string, u: Usage, id: string) {
  const tool = req.tools?.[0]?.name;
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: tool
      ? [{ type: 'tool_use', id: `toolu_${id}`, name: tool, input: { city: 'Paris' } }]
      : [{ type: 'text', text: replyWords(name, u.completion).join(' ') }],
    stop_reason: tool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: anthropicUsage(u),
  };
}
