import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProviderContext } from '../adapter.ts';
import { chatChunkText } from './chunk-text.ts';
import { openAIStreamConverter } from './openai-adapter.ts';

/** Text that tries to look like JSON structure: quotes, backslashes, the key itself, escapes. */
const trickyText = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('"content":"x"', '\\', '\\"', '"', '\n', '\u2028', 'caf\u00e9 ', '{"content": null}', ''),
  fc.string({ unit: fc.constantFrom('"', '\\', 'a', ':', '{', 'content', ' ', 'u', '0') }),
);

const choice = fc.record(
  {
    index: fc.nat(3),
    delta: fc.record(
      {
        role: fc.constant('assistant'),
        content: fc.option(trickyText, { nil: null }),
        refusal: fc.option(trickyText, { nil: null }),
        reasoning_content: trickyText,
      },
      { requiredKeys: [] },
    ),
    finish_reason: fc.constantFrom(null, 'stop'),
    content_filter_results: fc.constant({ hate: { filtered: false } }),
  },
  { requiredKeys: ['index', 'delta'] },
);

const chunkObject = fc.record(
  {
    id: fc.constant('chatcmpl-1'),
    object: fc.constant('chat.completion.chunk'),
    model: fc.constant('gpt-4o-2024'),
    choices: fc.array(choice, { maxLength: 3 }),
    usage: fc.constant(null),
  },
  { requiredKeys: ['id', 'object', 'model', 'choices'] },
);

/** Python's json.dumps spacing (`", "` and `": "`), which some OpenAI-compatible servers send. */
function pythonStyle(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonStyle).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pythonStyle(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

const serialised = fc
  .tuple(chunkObject, fc.constantFrom('compact', 'indented', 'python'))
  .map(([o, style]) => ({
    object: o,
    text:
      style === 'compact'
        ? JSON.stringify(o)
        : style === 'indented'
          ? JSON.stringify(o, null, 1)
          : pythonStyle(o),
  }));

const contentOf = (o: { choices: { delta: { content?: string | null } }[] }) =>
  o.choices.map((c) => c.delta.content ?? '').join('');

describe('chatChunkText', () => {
  it("reads exactly the chunk's content strings, whatever they hold and however the JSON is spaced", () => {
    fc.assert(
      fc.property(serialised, ({ object, text }) => {
        expect(chatChunkText(text)).toBe(contentOf(object));
      }),
      { numRuns: 2_000 },
    );
  });

  it('gives up (the caller parses) where a content key holds something else', () => {
    expect(chatChunkText('{"choices":[{"logprobs":{"content":[{"token":"a"}]}}]}')).toBeUndefined();
    expect(chatChunkText('{"choices":[{"delta":{"content":"a\\x"}}]}')).toBeUndefined();
    expect(chatChunkText('{"choices":[{"delta":{"content":"unterminated}}]}')).toBeUndefined();
  });
});

describe('OpenAI stream converter without parsing every chunk', () => {
  const ctx = (clientWantsUsage: boolean) =>
    ({ op: 'chat', stream: true, clientWantsUsage, upstreamModel: 'gpt-4o' }) as unknown as ProviderContext;

  it('relays, counts and hides usage as parsing every chunk would', () => {
    fc.assert(
      fc.property(
        fc.array(serialised, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (chunks, wantsUsage) => {
          const usage =
            '{"id":"chatcmpl-1","model":"gpt-4o-2024","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}';
          const converter = openAIStreamConverter(ctx(wantsUsage));
          const out = [...chunks.map((c) => c.text), usage, '[DONE]'].flatMap((data) =>
            converter.convert({ event: undefined, data }),
          );
          const expected = [
            ...chunks.map((c) => {
              if (wantsUsage || !('usage' in c.object)) return c.object;
              const { usage: _dropped, ...rest } = c.object;
              return rest;
            }),
            ...(wantsUsage ? [JSON.parse(usage)] : []),
            '[DONE]',
          ];
          expect(out.map((e) => (e.data === '[DONE]' ? e.data : JSON.parse(e.data)))).toEqual(expected);
          expect(converter.text()).toBe(chunks.map((c) => contentOf(c.object)).join(''));
          expect(converter.usage()).toEqual({ input: 3, cachedInput: 0, output: 2, reasoning: 0 });
          expect(converter.model()).toBe('gpt-4o-2024');
          expect(converter.complete()).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
