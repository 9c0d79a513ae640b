import { isObject, type Json, Refusal, type Translated, translating } from '../translation.ts';

/**
 * The OpenAI Responses API (`POST /v1/responses`) as a client surface over the chat pipeline, as the
 * Anthropic Messages surface is: the request becomes Chat Completions, the answer and its event
 * stream come back as a Response (responses-response.ts), so any provider can serve it.
 *
 * What chat cannot carry — stored state (`previous_response_id`, `store: true`, `conversation`,
 * `background`), built-in tools, item and part types of the Responses API's own — is not translated
 * half-way: the translation declines (`native_responses`) and the request is passed through as it is
 * to the backend's targets that speak the Responses API (OpenAI, Azure OpenAI).
 */

export function responsesToChat(body: Json): Translated {
  return translating(translate, body);
}

const STATEFUL = ['previous_response_id', 'conversation', 'background'] as const;

function translate(body: Json): Json {
  for (const field of STATEFUL)
    if (body[field] !== undefined && body[field] !== null && body[field] !== false)
      throw new Refusal(`${field} needs response state, kept by the provider`, field, 'native_responses');
  if (body.store === true)
    throw new Refusal('store: true needs response state, kept by the provider', 'store', 'native_responses');
  if (typeof body.model !== 'string' || body.model === '') throw new Refusal('model is required', 'model');

  const messages: Json[] = [];
  if (typeof body.instructions === 'string') messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
  else if (Array.isArray(body.input))
    for (const [i, item] of body.input.entries()) messages.push(...inputItem(item, `input.${i}`));
  else throw new Refusal('input must be a string or an array of items', 'input');

  const chat: Json = { model: body.model, messages };
  if (body.stream === true) {
    chat.stream = true;
    // response.completed carries the usage: the pipeline passes it on when asked.
    chat.stream_options = { include_usage: true };
  }
  if (body.max_output_tokens !== undefined) chat.max_tokens = body.max_output_tokens;
  for (const k of ['temperature', 'top_p', 'parallel_tool_calls', 'user'] as const)
    if (body[k] !== undefined) chat[k] = body[k];
  const effort = (body.reasoning as Json | undefined)?.effort;
  if (typeof effort === 'string') chat.reasoning_effort = effort;
  const format = (body.text as Json | undefined)?.format as Json | undefined;
  if (isObject(format) && format.type === 'json_schema')
    chat.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.strict !== undefined ? { strict: format.strict } : {}),
      },
    };
  else if (isObject(format) && format.type === 'json_object') chat.response_format = { type: 'json_object' };
  if (Array.isArray(body.tools)) chat.tools = body.tools.map((t, i) => tool(t, `tools.${i}`));
  if (body.tool_choice !== undefined) chat.tool_choice = toolChoice(body.tool_choice);
  return chat;
}

function inputItem(item: unknown, at: string): Json[] {
  if (!isObject(item)) throw new Refusal(`${at}: an input item`, at);
  const type = item.type ?? 'message';
  if (type === 'function_call')
    return [
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: item.call_id,
            type: 'function',
            function: { name: item.name, arguments: String(item.arguments ?? '') },
          },
        ],
      },
    ];
  if (type === 'function_call_output')
    return [
      {
        role: 'tool',
        tool_call_id: item.call_id,
        content: typeof item.output === 'string' ? item.output : JSON.stringify(item.output),
      },
    ];
  if (type !== 'message')
    throw new Refusal(
      `${at}.type: ${JSON.stringify(type)} cannot be translated to Chat Completions`,
      `${at}.type`,
      'native_responses',
    );
  const role = item.role === 'developer' ? 'system' : item.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system')
    throw new Refusal(`${at}.role: expected user, assistant, system or developer`, `${at}.role`);
  if (typeof item.content === 'string') return [{ role, content: item.content }];
  if (!Array.isArray(item.content))
    throw new Refusal(`${at}.content: a string or an array of parts`, `${at}.content`);
  const parts = item.content.map((p, j) => contentPart(p, `${at}.content.${j}`));
  const textOnly = parts.every((p) => p.type === 'text');
  return [{ role, content: textOnly ? parts.map((p) => p.text).join('') : parts }];
}

function contentPart(part: unknown, at: string): Json {
  if (!isObject(part)) throw new Refusal(`${at}: a content part`, at);
  if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string')
    return { type: 'text', text: part.text };
  if (part.type === 'input_image' && typeof part.image_url === 'string')
    return {
      type: 'image_url',
      image_url: { url: part.image_url, ...(part.detail ? { detail: part.detail } : {}) },
    };
  throw new Refusal(
    `${at}.type: ${JSON.stringify(part.type)} cannot be translated to Chat Completions`,
    `${at}.type`,
    'native_responses',
  );
}

function tool(t: unknown, at: string): Json {
  if (!isObject(t)) throw new Refusal(`${at}: a tool`, at);
  if (t.type !== 'function')
    throw new Refusal(`${at}: built-in tools need the Responses API itself`, at, 'native_responses');
  if (typeof t.name !== 'string') throw new Refusal(`${at}.name: a string`, `${at}.name`);
  return {
    type: 'function',
    function: {
      name: t.name,
      ...(typeof t.description === 'string' ? { description: t.description } : {}),
      parameters: t.parameters ?? { type: 'object' },
      ...(t.strict !== undefined && t.strict !== null ? { strict: t.strict } : {}),
    },
  };
}

function toolChoice(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isObject(choice) && choice.type === 'function')
    return { type: 'function', function: { name: choice.name } };
  throw new Refusal('tool_choice: auto, none, required or a function', 'tool_choice');
}
