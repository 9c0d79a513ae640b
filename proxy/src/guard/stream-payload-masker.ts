import type { ClientEvent } from '../client-api/client-event.ts';
import type { Detector } from './compiled-guard.ts';
import { StreamMasker } from './stream-masker.ts';

interface Chunk {
  error?: unknown;
  choices?: { index?: number; delta?: { content?: string | null }; finish_reason?: string | null }[];
}

/**
 * Masks the content of streamed OpenAI chunks, one StreamMasker per choice. Held-back text is released
 * with the choice's finish chunk (or before `[DONE]`); a stream that breaks never releases it unmasked.
 */
export function streamPayloadMasker(maskers: readonly Detector[]): (event: ClientEvent) => ClientEvent[] {
  const byChoice = new Map<number, StreamMasker>();
  const finished = new Set<number>();
  const masker = (index: number) => {
    let m = byChoice.get(index);
    if (!m) {
      m = new StreamMasker(maskers);
      byChoice.set(index, m);
    }
    return m;
  };
  return (event) => {
    const payload = event.data;
    if (payload === '[DONE]') {
      const rest = [...byChoice.entries()]
        .filter(([index]) => !finished.has(index))
        .map(([index, m]) => ({ index, delta: { content: m.flush() }, finish_reason: null }))
        .filter((c) => c.delta.content !== '');
      return rest.length > 0
        ? [{ data: JSON.stringify({ object: 'chat.completion.chunk', choices: rest }) }, event]
        : [event];
    }
    // The converter hands over the chunk it already parsed; only what it could not parse is left.
    const chunk = event.chunk as Chunk | undefined;
    if (!chunk || chunk.error || !Array.isArray(chunk.choices)) return [event];
    for (const c of chunk.choices) {
      const index = c.index ?? 0;
      const m = masker(index);
      if (c.delta && typeof c.delta.content === 'string') c.delta.content = m.push(c.delta.content);
      if (c.finish_reason) {
        const rest = m.flush();
        finished.add(index);
        if (rest !== '') c.delta = { ...c.delta, content: (c.delta?.content ?? '') + rest };
      }
    }
    return [{ data: JSON.stringify(chunk), chunk: chunk as Record<string, unknown> }];
  };
}
