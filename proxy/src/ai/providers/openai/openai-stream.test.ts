import { describe, expect, it } from 'vitest';
import type { ProviderContext } from '../adapter.ts';
import { openAIStreamConverter } from './openai-adapter.ts';

const ctx = (clientWantsUsage: boolean) =>
  ({ op: 'chat', stream: true, clientWantsUsage, upstreamModel: 'gpt-4o' }) as unknown as ProviderContext;
const chunk = (content: string) =>
  JSON.stringify({ model: 'gpt-4o-2024', choices: [{ index: 0, delta: { content } }], usage: null });
const usageChunk = JSON.stringify({
  model: 'gpt-4o-2024',
  choices: [],
  usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } },
});

describe('OpenAI stream converter', () => {
  it('takes usage from the final chunk and hides the usage Sluice asked for from a client that did not', () => {
    const c = openAIStreamConverter(ctx(false));
    const out = [chunk('Hel'), chunk('lo'), usageChunk, '[DONE]'].flatMap((data) =>
      c.convert({ event: undefined, data }),
    );
    expect(out.map(({ data }) => (data === '[DONE]' ? data : JSON.parse(data)))).toEqual([
      { model: 'gpt-4o-2024', choices: [{ index: 0, delta: { content: 'Hel' } }] },
      { model: 'gpt-4o-2024', choices: [{ index: 0, delta: { content: 'lo' } }] },
      '[DONE]',
    ]);
    expect(c.usage()).toEqual({ input: 12, cachedInput: 4, output: 3, reasoning: 0 });
    expect(c.model()).toBe('gpt-4o-2024');
    expect(c.text()).toBe('Hello');
    expect(c.complete()).toBe(true);
  });

  it('passes the usage chunk on, unchanged, to a client that asked for it', () => {
    const c = openAIStreamConverter(ctx(true));
    expect(c.convert({ event: undefined, data: usageChunk }).map((e) => e.data)).toEqual([usageChunk]);
  });

  it('relays what is not JSON untouched and reports an incomplete stream without [DONE]', () => {
    const c = openAIStreamConverter(ctx(false));
    expect(c.convert({ event: undefined, data: 'not json' })).toEqual([{ data: 'not json' }]);
    expect(c.complete()).toBe(false);
    expect(c.usage()).toBeUndefined();
  });
});
