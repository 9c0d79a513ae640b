import type { AIOperation } from '../client-api/operations.ts';

/** One string of a request body, read and rewritten in place. */
export interface TextSlot {
  /** The role it is checked under (see `roleOf`). */
  role: string;
  /** Index of the message (or prompt/input entry) it belongs to. */
  message: number;
  /** Slots of one text (the parts of one message) share a group and are scanned as one string. */
  group: number;
  /** JSON pointer of the string in the request body. */
  pointer: string;
  get(): string;
  set(text: string): void;
}

/** A value where text was expected that is not text: the request is refused, never passed unscanned. */
export interface NotText {
  pointer: string;
  message: string;
}

/**
 * Roles as guards see them: lower-cased; OpenAI's `developer` is the system role under another name
 * and the legacy `function` role is `tool`. Texts outside messages get the role of who writes them:
 * tool definitions are the application's (`system`), the `user` field and predicted output the
 * caller's (`user`).
 */
export function roleOf(role: string): string {
  const r = role.toLowerCase();
  if (r === 'developer') return 'system';
  if (r === 'function') return 'tool';
  return r;
}

/** Operations whose text is their `prompt` (the others': `input`). */
const PROMPT_OPERATIONS: ReadonlySet<AIOperation> = new Set([
  'completions',
  'images',
  'image_edits',
  'transcriptions',
  'translations',
]);

/** Content part types that carry text in `text` (chat and Responses-style parts, or untyped). */
const TEXT_PART = new Set([undefined, 'text', 'input_text', 'output_text']);

/**
 * Every text of a request a guard looks at: for chat, each message's content (all text parts of one
 * message as one text, so a secret split over two parts is still found), its `name`, tool-call and
 * function-call arguments, refusals; tool and function definitions (descriptions and every string
 * of their parameter schemas); `user`; `prediction`. For completions the prompt(s) and suffix, for
 * embeddings the input(s), for speech its input, for image edits and audio their prompt, for rerank
 * the query and documents. Token-id arrays cannot be read, so they are `NotText`; audio and images
 * are not read at all (no guard sees into them).
 */
export function requestTexts(op: AIOperation, body: Record<string, unknown>): TextSlot[] | NotText {
  const slots = new TextCollector();
  if (op === 'chat') {
    const messages = Array.isArray(body.messages) ? body.messages : [];
    messages.forEach((m: unknown, i) => {
      if (typeof m === 'object' && m !== null)
        slots.message(m as Record<string, unknown>, i, `/messages/${i}`);
    });
    const tools = Array.isArray(body.tools) ? body.tools : [];
    tools.forEach((t: Record<string, unknown>, i) => {
      if (t && typeof t.function === 'object' && t.function !== null)
        slots.strings('system', i, t.function as Record<string, unknown>, `/tools/${i}/function`);
    });
    const functions = Array.isArray(body.functions) ? body.functions : [];
    functions.forEach((f, i) => {
      if (f && typeof f === 'object')
        slots.strings('system', i, f as Record<string, unknown>, `/functions/${i}`);
    });
    slots.string('user', 0, body, 'user', '/user');
    const prediction = body.prediction as Record<string, unknown> | undefined;
    if (prediction && typeof prediction === 'object')
      slots.content('user', 0, prediction, 'content', '/prediction/content');
    return slots.problem ?? slots.all;
  }
  if (op === 'responses') return responsesTexts(body, slots);
  if (op === 'rerank') {
    slots.string('user', 0, body, 'query', '/query');
    const documents = Array.isArray(body.documents) ? body.documents : [];
    documents.forEach((d: unknown, i) => {
      if (typeof d === 'string') slots.string('user', i + 1, documents, i, `/documents/${i}`);
      else if (typeof d === 'object' && d !== null)
        slots.string('user', i + 1, d as Record<string, unknown>, 'text', `/documents/${i}/text`);
    });
    return slots.problem ?? slots.all;
  }
  // Audio and images carry no text a guard can read: their prompts do.
  const field = PROMPT_OPERATIONS.has(op) ? 'prompt' : 'input';
  const value = body[field];
  if (typeof value === 'string') slots.string('user', 0, body, field, `/${field}`);
  else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      if (typeof v === 'string') slots.string('user', i, value, i, `/${field}/${i}`);
      // Moderation's multimodal input: text parts are read, image parts carry no text.
      else if (op === 'moderations' && typeof v === 'object' && v !== null) {
        if ((v as { type?: unknown }).type === 'text')
          slots.string('user', i, v, 'text', `/${field}/${i}/text`);
      } else slots.notText(`/${field}/${i}`, 'token ids cannot be checked by PromptGuard; send text');
    });
  }
  if (op === 'completions') slots.string('user', 0, body, 'suffix', '/suffix');
  return slots.problem ?? slots.all;
}

/**
 * A Responses API request passed through natively: `instructions`, the input (a string, or items:
 * messages, function calls' arguments and their outputs), function tools and `user`. Items that
 * carry no readable text (reasoning, references to stored items, built-in tool calls) are not read:
 * what they refer to was checked when it was sent.
 */
function responsesTexts(body: Record<string, unknown>, slots: TextCollector): TextSlot[] | NotText {
  slots.string('system', 0, body, 'instructions', '/instructions');
  const input = body.input;
  if (typeof input === 'string') slots.string('user', 0, body, 'input', '/input');
  else if (Array.isArray(input))
    input.forEach((item: unknown, i) => {
      if (typeof item !== 'object' || item === null) return;
      const it = item as Record<string, unknown>;
      const type = it.type ?? 'message';
      const at = `/input/${i}`;
      if (type === 'message')
        slots.content(roleOf(String(it.role ?? 'user')), i, it, 'content', `${at}/content`);
      else if (type === 'function_call') slots.string('assistant', i, it, 'arguments', `${at}/arguments`);
      else if (type === 'function_call_output') slots.content('tool', i, it, 'output', `${at}/output`);
    });
  const tools = Array.isArray(body.tools) ? body.tools : [];
  tools.forEach((t: unknown, i) => {
    if (typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'function')
      slots.strings('system', i, t as Record<string, unknown>, `/tools/${i}`);
  });
  slots.string('user', 0, body, 'user', '/user');
  return slots.problem ?? slots.all;
}

/** Gathers the text slots of a request or an answer. */
export class TextCollector {
  readonly all: TextSlot[] = [];
  problem: NotText | undefined;
  #group = 0;

  /** A chat message: content, name, reasoning, refusal, tool-call and function-call arguments. */
  message(m: Record<string, unknown>, i: number, at: string, defaultRole = ''): void {
    const role = roleOf(typeof m.role === 'string' ? m.role : defaultRole);
    this.content(role, i, m, 'content', `${at}/content`);
    this.string(role, i, m, 'name', `${at}/name`);
    this.string(role, i, m, 'refusal', `${at}/refusal`);
    this.string(role, i, m, 'reasoning_content', `${at}/reasoning_content`);
    const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
    calls.forEach((c: Record<string, unknown>, j) => {
      const fn = c?.function as Record<string, unknown> | undefined;
      if (fn && typeof fn === 'object')
        this.string(role, i, fn, 'arguments', `${at}/tool_calls/${j}/function/arguments`);
    });
    const legacy = m.function_call as Record<string, unknown> | undefined;
    if (legacy && typeof legacy === 'object')
      this.string(role, i, legacy, 'arguments', `${at}/function_call/arguments`);
  }

  /** A message's content: a string, or parts whose text parts form one text. */
  content(
    role: string,
    message: number,
    holder: Record<string, unknown>,
    key: string,
    pointer: string,
  ): void {
    const value = holder[key];
    if (typeof value === 'string') {
      this.string(role, message, holder, key, pointer);
      return;
    }
    if (!Array.isArray(value)) return;
    const group = this.#group++;
    value.forEach((p: Record<string, unknown>, i) => {
      if (typeof p !== 'object' || p === null) return;
      if (TEXT_PART.has(p.type as string | undefined) && typeof p.text === 'string')
        this.all.push(slot(role, message, group, p, 'text', `${pointer}/${i}/text`));
      else if (p.type === 'refusal' && typeof p.refusal === 'string')
        this.all.push(slot(role, message, group, p, 'refusal', `${pointer}/${i}/refusal`));
    });
  }

  string(
    role: string,
    message: number,
    holder: Record<string | number, unknown> | unknown[],
    key: string | number,
    pointer: string,
  ): void {
    if (typeof (holder as Record<string | number, unknown>)[key] !== 'string') return;
    this.all.push(slot(role, message, this.#group++, holder, key, pointer));
  }

  /** Every string inside a JSON value (a tool's description and its parameter schema). */
  strings(role: string, message: number, value: Record<string, unknown> | unknown[], pointer: string): void {
    for (const [key, v] of Object.entries(value)) {
      const at = `${pointer}/${key}`;
      const k = Array.isArray(value) ? Number(key) : key;
      if (typeof v === 'string') this.string(role, message, value, k, at);
      else if (typeof v === 'object' && v !== null)
        this.strings(role, message, v as Record<string, unknown>, at);
    }
  }

  notText(pointer: string, message: string): void {
    this.problem ??= { pointer, message: `${pointer}: ${message}.` };
  }
}

function slot(
  role: string,
  message: number,
  group: number,
  holder: Record<string | number, unknown> | unknown[],
  key: string | number,
  pointer: string,
): TextSlot {
  const cell = holder as Record<string | number, unknown>;
  return {
    role,
    message,
    group,
    pointer,
    get: () => cell[key] as string,
    set: (text) => {
      cell[key] = text;
    },
  };
}
