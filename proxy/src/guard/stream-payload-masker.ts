import type { ClientEvent } from '../client-api/client-event.ts';
import type { Detector } from './detector.ts';
import type { Finding } from './scan.ts';
import { StreamMasker } from './stream-masker.ts';

interface ToolCallDelta {
  index?: number;
  function?: { arguments?: string | null } & Record<string, unknown>;
}
interface Delta {
  content?: string | null;
  reasoning_content?: string | null;
  refusal?: string | null;
  tool_calls?: ToolCallDelta[];
}
interface Choice {
  index?: number;
  delta?: Delta;
  /** Streamed `/v1/completions`. */
  text?: string;
  finish_reason?: string | null;
}
interface Chunk {
  id?: unknown;
  object?: unknown;
  created?: unknown;
  model?: unknown;
  error?: unknown;
  choices?: Choice[];
}

const TEXT_FIELDS = ['content', 'reasoning_content', 'refusal'] as const;
const HELD_FIELDS: ReadonlySet<string> = new Set(TEXT_FIELDS);

/** A choice with nothing left to say after masking: empty text deltas, no finish, no tool calls. */
function heldBack(c: Choice): boolean {
  if (c.finish_reason || (c.text !== undefined && c.text !== '')) return false;
  const delta = c.delta as Record<string, unknown> | undefined;
  for (const key in delta) {
    const value = delta[key];
    if (!HELD_FIELDS.has(key) || (value !== '' && value !== null)) return false;
  }
  return true;
}

/** The streamed fields of one choice that carry text, each masked as its own stream. */
type Field = 'content' | 'reasoning_content' | 'refusal' | 'text' | `tool:${number}`;

/**
 * Masks the text of streamed OpenAI chunks (chat deltas — content, reasoning, refusal, tool-call
 * arguments — and completions text), one StreamMasker per choice and field. Held-back text is
 * released with the choice's finish chunk (or in one chunk before `[DONE]`, carrying the stream's
 * `id`, `model` and `created`); a stream that breaks never releases it unmasked.
 */
export function streamPayloadMasker(
  maskers: readonly Detector[],
  onFinding?: (f: Finding) => void,
): (event: ClientEvent) => ClientEvent[] {
  const byChoice = new Map<number, Map<Field, StreamMasker>>();
  const finished = new Set<number>();
  let identity: Pick<Chunk, 'id' | 'object' | 'created' | 'model'> = {};
  const masker = (index: number, field: Field) => {
    let fields = byChoice.get(index);
    if (!fields) {
      fields = new Map();
      byChoice.set(index, fields);
    }
    let m = fields.get(field);
    if (!m) {
      m = new StreamMasker(maskers, onFinding);
      fields.set(field, m);
    }
    return m;
  };
  /** Everything a choice still holds back, as the fields of one delta (or completion text). */
  const release = (index: number, into: Choice) => {
    for (const [field, m] of byChoice.get(index) ?? []) {
      const rest = m.flush();
      if (rest === '') continue;
      if (field === 'text') into.text = (into.text ?? '') + rest;
      else if (field.startsWith('tool:')) {
        const tool = Number(field.slice(5));
        into.delta ??= {};
        into.delta.tool_calls = [...(into.delta.tool_calls ?? [])];
        const existing = into.delta.tool_calls.find((t) => (t.index ?? 0) === tool);
        if (existing?.function) existing.function.arguments = (existing.function.arguments ?? '') + rest;
        else into.delta.tool_calls.push({ index: tool, function: { arguments: rest } });
      } else {
        const f = field as 'content' | 'reasoning_content' | 'refusal';
        into.delta ??= {};
        into.delta[f] = (into.delta[f] ?? '') + rest;
      }
    }
    finished.add(index);
  };
  return (event) => {
    const payload = event.data;
    if (payload === '[DONE]') {
      const rest: Choice[] = [];
      for (const index of byChoice.keys()) {
        if (finished.has(index)) continue;
        const choice: Choice = { index, finish_reason: null };
        release(index, choice);
        if (choice.delta || choice.text !== undefined) rest.push(choice);
      }
      if (rest.length === 0) return [event];
      const object = identity.object ?? 'chat.completion.chunk';
      return [{ data: JSON.stringify({ ...identity, object, choices: rest }) }, event];
    }
    // The chunk the converter parsed, or this event's text parsed here: converters leave most chat
    // chunks unparsed, and a chunk left unread here would reach the client unmasked.
    const chunk = (event.chunk ?? parsedChunk(payload)) as Chunk | undefined;
    if (!chunk || chunk.error || !Array.isArray(chunk.choices)) return [event];
    if (identity.id === undefined)
      identity = { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model };
    for (const c of chunk.choices) {
      const index = c.index ?? 0;
      if (typeof c.text === 'string') c.text = masker(index, 'text').push(c.text);
      const delta = c.delta;
      if (delta) {
        for (const field of TEXT_FIELDS) {
          const value = delta[field];
          if (typeof value === 'string') delta[field] = masker(index, field).push(value);
        }
        for (const call of delta.tool_calls ?? []) {
          const args = call.function?.arguments;
          if (typeof args === 'string')
            call.function!.arguments = masker(index, `tool:${call.index ?? 0}`).push(args);
        }
      }
      if (c.finish_reason) release(index, c);
    }
    // A chunk whose text is all held back says nothing yet: it is not sent (the text follows, masked,
    // in a later chunk), which spares serialising and writing most chunks of a long answer.
    if (chunk.choices.every(heldBack) && (chunk as { usage?: unknown }).usage == null) return [];
    return [{ data: JSON.stringify(chunk), chunk: chunk as Record<string, unknown> }];
  };
}

function parsedChunk(payload: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
