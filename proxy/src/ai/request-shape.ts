import type { AIOperation } from '../client-api/operations.ts';

/** Where a request body breaks the shape its API documents: a JSON pointer and what is wrong there. */
export interface ShapeProblem {
  pointer: string;
  message: string;
}

type Check = (value: unknown, pointer: string) => ShapeProblem | undefined;

const problem = (pointer: string, expected: string): ShapeProblem => ({
  pointer,
  message: `${pointer} must be ${expected}.`,
});

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const optional =
  (check: Check): Check =>
  (value, pointer) =>
    value === undefined || value === null ? undefined : check(value, pointer);

const ofType =
  (type: 'string' | 'number' | 'boolean', expected: string): Check =>
  (value, pointer) =>
    typeof value === type && (type !== 'number' || Number.isFinite(value))
      ? undefined
      : problem(pointer, expected);

const arrayOf =
  (item: Check, expected: string): Check =>
  (value, pointer) => {
    if (!Array.isArray(value)) return problem(pointer, expected);
    for (let i = 0; i < value.length; i++) {
      const p = item(value[i], `${pointer}/${i}`);
      if (p) return p;
    }
    return undefined;
  };

const oneOf =
  (checks: Check[], expected: string): Check =>
  (value, pointer) =>
    checks.some((c) => c(value, pointer) === undefined) ? undefined : problem(pointer, expected);

const string = ofType('string', 'a string');
const number = ofType('number', 'a number');
const boolean = ofType('boolean', 'true or false');
const object: Check = (value, pointer) => (isObject(value) ? undefined : problem(pointer, 'an object'));

/** A content part: an object with a string `type`; text parts carry string `text`. */
const contentPart: Check = (value, pointer) => {
  if (!isObject(value)) return problem(pointer, 'a content part object');
  if (value.type !== undefined && typeof value.type !== 'string')
    return problem(`${pointer}/type`, 'a string');
  if ((value.type === undefined || /text$/.test(String(value.type))) && typeof value.text !== 'string')
    return problem(`${pointer}/text`, 'a string');
  return undefined;
};

/** A string, or content parts: a bad part is named by its own pointer. */
const textContent: Check = (value, pointer) =>
  Array.isArray(value)
    ? arrayOf(contentPart, 'an array of content parts')(value, pointer)
    : string(value, pointer) && problem(pointer, 'a string or an array of content parts');

const toolCall: Check = (value, pointer) => {
  if (!isObject(value)) return problem(pointer, 'a tool call object');
  if (!isObject(value.function)) return problem(`${pointer}/function`, 'an object');
  return (
    optional(string)(value.function.name, `${pointer}/function/name`) ??
    optional(string)(value.function.arguments, `${pointer}/function/arguments`)
  );
};

const message: Check = (value, pointer) => {
  if (!isObject(value)) return problem(pointer, 'a message object');
  if (typeof value.role !== 'string') return problem(`${pointer}/role`, 'a string');
  return (
    optional(textContent)(value.content, `${pointer}/content`) ??
    optional(string)(value.name, `${pointer}/name`) ??
    optional(arrayOf(toolCall, 'an array of tool calls'))(value.tool_calls, `${pointer}/tool_calls`)
  );
};

const tool: Check = (value, pointer) => {
  if (!isObject(value)) return problem(pointer, 'a tool object');
  if (value.function !== undefined && !isObject(value.function))
    return problem(`${pointer}/function`, 'an object');
  return undefined;
};

/** Streamed transcripts are not relayed yet: said plainly rather than answered as one block. */
const notStreamed: Check = (v, p) =>
  v === 'true' || v === true
    ? problem(p, 'false: streamed transcripts are not relayed by Sluice yet')
    : undefined;

const stringOrStrings = oneOf([string, arrayOf(string, '')], 'a string or an array of strings');
/** Prompts and embedding inputs: text, texts, token ids, or arrays of token ids. */
const textOrTokens = oneOf(
  [string, arrayOf(string, ''), arrayOf(number, ''), arrayOf(arrayOf(number, ''), '')],
  'a string, an array of strings, or token ids',
);

/** Fields every operation shares. */
const COMMON: Record<string, Check> = {
  stream: optional(boolean),
  stream_options: optional(object),
  user: optional(string),
  max_tokens: optional(number),
  max_completion_tokens: optional(number),
  n: optional(number),
  temperature: optional(number),
  top_p: optional(number),
};

const SHAPES: Record<AIOperation, Record<string, Check>> = {
  chat: {
    ...COMMON,
    messages: (v, p) =>
      Array.isArray(v) && v.length === 0
        ? problem(p, 'a non-empty array of messages')
        : arrayOf(message, 'an array of messages')(v, p),
    tools: optional(arrayOf(tool, 'an array of tools')),
    stop: optional(stringOrStrings),
  },
  completions: { ...COMMON, prompt: textOrTokens, stop: optional(stringOrStrings) },
  embeddings: { ...COMMON, input: textOrTokens },
  // Text, texts, or (omni-moderation) an array of text and image parts.
  moderations: {
    ...COMMON,
    input: (v, p) =>
      typeof v === 'string' || Array.isArray(v) ? undefined : problem(p, 'a string or an array'),
  },
  images: { ...COMMON, prompt: (v, p) => (typeof v === 'string' ? undefined : problem(p, 'a string')) },
  // Passed through natively: only what guards and budgets read (the rest is the provider's to check).
  responses: {
    stream: optional(boolean),
    max_output_tokens: optional(number),
    instructions: optional(string),
    previous_response_id: optional(string),
    input: (v, p) =>
      typeof v === 'string' || Array.isArray(v) || v === undefined
        ? undefined
        : problem(p, 'a string or an array of items'),
    tools: optional(arrayOf(object, 'an array of tools')),
  },
  // Multipart forms: every field read here is text.
  image_edits: { prompt: string },
  transcriptions: { prompt: optional(string), stream: notStreamed },
  translations: { prompt: optional(string) },
  speech: {
    input: string,
    stream_format: (v, p) => (v === 'sse' ? problem(p, '"audio": audio is relayed as bytes') : undefined),
  },
  rerank: {
    query: string,
    documents: arrayOf(oneOf([string, object], 'a string or an object'), 'an array of documents'),
    top_n: optional(number),
  },
};

/**
 * Checks the parts of an AI request body that the gateway itself reads (guards, budgets, provider
 * translation) against the documented OpenAI shapes, so that a malformed body is a clear 400 naming
 * the field instead of an exception deep inside the pipeline. Fields it does not read pass through.
 */
export function checkRequestShape(op: AIOperation, body: Record<string, unknown>): ShapeProblem | undefined {
  for (const [field, check] of Object.entries(SHAPES[op])) {
    const p = check(body[field], `/${field}`);
    if (p) return p;
  }
  return undefined;
}
