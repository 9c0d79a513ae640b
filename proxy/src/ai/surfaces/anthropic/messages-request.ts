import { isObject, type Json, Refusal, type Translated, translating } from '../translation.ts';

/**
 * The Anthropic Messages API as a client surface: a `POST /v1/messages` body becomes the Chat
 * Completions request the one AI pipeline serves (identity, guards, budgets, failover, usage and cost
 * are the same for every surface), and the pipeline's answer is turned back (messages-response.ts,
 * messages-stream.ts). Anthropic targets get it translated once more by their adapter.
 *
 * What Chat Completions cannot carry is refused with the parameter named, not silently dropped:
 * extended `thinking`, documents and other block types. Prompt-caching hints (`cache_control`) are
 * dropped: they change price, never the answer.
 */

export function messagesToChat(body: Json): Translated {
  return translating(translate, body);
}

function translate(body: Json): Json {
  if (typeof body.model !== 'string' || body.model === '')
    throw new Refusal('model: Field required', 'model');
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1)
    throw new Refusal('max_tokens: Field required (a positive integer)', 'max_tokens');
  if (!Array.isArray(body.messages)) throw new Refusal('messages: Field required (an array)', 'messages');
  const thinking = body.thinking as Json | undefined;
  if (isObject(thinking) && thinking.type === 'enabled')
    throw new Refusal('extended thinking cannot be translated to Chat Completions targets', 'thinking');

  const messages: Json[] = [];
  const system = systemText(body.system);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  for (const [i, m] of body.messages.entries()) messages.push(...message(m, `messages.${i}`));

  const chat: Json = { model: body.model, messages, max_tokens: body.max_tokens };
  if (body.stream === true) {
    chat.stream = true;
    // The Messages stream ends with the usage (message_delta): ask the pipeline to pass it on.
    chat.stream_options = { include_usage: true };
  }
  for (const [from, to] of [
    ['temperature', 'temperature'],
    ['top_p', 'top_p'],
    ['stop_sequences', 'stop'],
  ] as const)
    if (body[from] !== undefined) chat[to] = body[from];
  if (body.top_k !== undefined) throw new Refusal('top_k has no Chat Completions equivalent', 'top_k');
  const user = (body.metadata as Json | undefined)?.user_id;
  if (typeof user === 'string') chat.user = user;
  if (Array.isArray(body.tools)) chat.tools = body.tools.map((t, i) => tool(t, `tools.${i}`));
  if (body.tool_choice !== undefined) chat.tool_choice = toolChoice(body.tool_choice);
  return chat;
}

function systemText(system: unknown): string | undefined {
  if (system === undefined) return undefined;
  if (typeof system === 'string') return system;
  if (!Array.isArray(system)) throw new Refusal('system: a string or an array of text blocks', 'system');
  return system
    .map((b, i) => {
      if (!isObject(b) || b.type !== 'text' || typeof b.text !== 'string')
        throw new Refusal(`system.${i}: only text blocks are supported`, `system.${i}`);
      return b.text;
    })
    .join('\n\n');
}

/** One Messages turn: a user turn with tool results becomes tool messages (then the rest). */
function message(m: unknown, at: string): Json[] {
  if (!isObject(m) || (m.role !== 'user' && m.role !== 'assistant'))
    throw new Refusal(`${at}.role: expected user or assistant`, `${at}.role`);
  if (typeof m.content === 'string') return [{ role: m.role, content: m.content }];
  if (!Array.isArray(m.content))
    throw new Refusal(`${at}.content: a string or an array of blocks`, `${at}.content`);
  const parts: Json[] = [];
  const toolCalls: Json[] = [];
  const toolResults: Json[] = [];
  m.content.forEach((b, i) => {
    const where = `${at}.content.${i}`;
    if (!isObject(b)) throw new Refusal(`${where}: a content block`, where);
    switch (b.type) {
      case 'text':
        parts.push({ type: 'text', text: String(b.text ?? '') });
        break;
      case 'image':
        parts.push({ type: 'image_url', image_url: { url: imageUrl(b.source, where) } });
        break;
      case 'tool_use':
        toolCalls.push({
          id: b.id,
          type: 'function',
          function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
        });
        break;
      case 'tool_result':
        toolResults.push({
          role: 'tool',
          tool_call_id: b.tool_use_id,
          content: toolResultText(b.content, where),
        });
        break;
      default:
        throw new Refusal(
          `${where}: block type ${JSON.stringify(b.type)} cannot be translated to Chat Completions`,
          where,
        );
    }
  });
  const out: Json[] = [...toolResults];
  const textOnly = parts.every((p) => p.type === 'text');
  const content = textOnly ? parts.map((p) => p.text).join('') : parts;
  if (m.role === 'assistant') {
    if (parts.length > 0 || toolCalls.length > 0)
      out.push({
        role: 'assistant',
        content: parts.length > 0 ? content : null,
        ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      });
  } else if (parts.length > 0) out.push({ role: 'user', content });
  return out;
}

function imageUrl(source: unknown, at: string): string {
  if (isObject(source) && source.type === 'base64' && typeof source.data === 'string')
    return `data:${String(source.media_type)};base64,${source.data}`;
  if (isObject(source) && source.type === 'url' && typeof source.url === 'string') return source.url;
  throw new Refusal(`${at}.source: a base64 or url image source`, `${at}.source`);
}

function toolResultText(content: unknown, at: string): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((b, i) => {
        if (isObject(b) && b.type === 'text') return String(b.text ?? '');
        throw new Refusal(`${at}.content.${i}: tool results carry text only here`, `${at}.content.${i}`);
      })
      .join('');
  throw new Refusal(`${at}.content: a string or text blocks`, `${at}.content`);
}

function tool(t: unknown, at: string): Json {
  if (!isObject(t) || typeof t.name !== 'string')
    throw new Refusal(`${at}.name: Field required`, `${at}.name`);
  if (t.type !== undefined && t.type !== 'custom')
    throw new Refusal(
      `${at}: Anthropic's built-in tool ${JSON.stringify(t.type)} has no Chat Completions equivalent`,
      at,
    );
  return {
    type: 'function',
    function: {
      name: t.name,
      ...(typeof t.description === 'string' ? { description: t.description } : {}),
      parameters: t.input_schema ?? { type: 'object' },
    },
  };
}

function toolChoice(choice: unknown): unknown {
  if (!isObject(choice)) throw new Refusal('tool_choice: an object with a type', 'tool_choice');
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
    default:
      throw new Refusal(`tool_choice.type: expected auto, any, tool or none`, 'tool_choice.type');
  }
}
