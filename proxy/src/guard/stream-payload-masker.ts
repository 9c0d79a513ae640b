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
export function streamPayloadMasker(maskers: readonly Detector[]): (payload: string) => string[] {
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
  return (payload) => {
    if (payload === '[DONE]') {
      const rest = [...byChoice.entries()]
        .filter(([index]) => !finished.has(index))
        .map(([index, m]) => ({ index, delta: { content: m.flush() }, finish_reason: null }))
        .filter((c) => c.delta.content !== '');
      return rest.length > 0
        ? [JSON.stringify({ object: 'chat.completion.chunk', choices: rest }), payload]
        : [payload];
    }
    let chunk: Chunk;
    try {
      chunk = JSON.parse(payload);
    } catch {
      return [payload];
    }
    if (chunk.error || !Array.isArray(chunk.choices)) return [payload];
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
    return [JSON.stringify(chunk)];
  };
}
