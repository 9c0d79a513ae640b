import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamMasker } from '../../proxy/src/guard/stream-masker.ts';
import { streamPayloadMasker } from '../../proxy/src/guard/stream-payload-masker.ts';
import { MASK_EVERY_BUILTIN, testGuard } from '../support/guards.ts';
import { maskAtOnce } from '../support/whole-text-masking.ts';

/** Every built-in detector and a custom RE2 pattern, all masking. */
const guard = testGuard({
  roles: ['assistant'],
  builtins: MASK_EVERY_BUILTIN,
  regexes: [
    { name: 'order', pattern: 'ORD-[0-9]{6}', action: 'Mask', replacement: '<ORDER>', maxLength: 10 },
  ],
  maskResponses: true,
});
const detectors = guard.maskers;

/** Secrets of every detector, look-alikes that must stay, and text that makes detectors meet. */
const FRAGMENTS = [
  'jane.doe+x@mail.example.org',
  'bob@例子.广告',
  'ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ',
  'ja\u200bne@exa\u200dmple.com',
  'icon@2x.png',
  '+1 (415) 555-0132',
  '+33 1 42 68 53 00',
  'order 4155550132',
  '4242 4242 4242 4242 4242 4242 4242 4242',
  '4111-1111-1111-1111 12/28 123',
  '4111 1111 1111 1112',
  '123-45-6789',
  '123 45 6789',
  '10.20.30.40',
  'v1.2.3.4',
  '2001:db8::8a2e:370:7334',
  '::ffff:192.0.2.128',
  'a::b std::vector',
  'GB82 WEST 1234 5698 7654 32',
  'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12',
  'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv',
  'AKIAIOSFODNN7EXAMPLE',
  'ghp_0123456789abcdefghijklmnopqrstuvwxyz',
  'xoxb-1234567890-abcdefghij',
  'xapp-1-A0123456789-0123456789-abcdef',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----',
  'ORD-123456',
  '🙂 emoji 🙂',
  'über straße',
  'plain words here',
  '12345',
  '@',
  '-----',
];
const SEPARATORS = ['', ' ', '  ', '\n', ', ', '. ', ':', '-'];

const text = fc
  .array(fc.tuple(fc.constantFrom(...FRAGMENTS), fc.constantFrom(...SEPARATORS)), {
    minLength: 1,
    maxLength: 10,
  })
  .map((parts) => parts.map(([f, s]) => f + s).join(''));

/** A text and the points where a stream cuts it. */
const cutText = text.chain((t) =>
  fc
    .uniqueArray(fc.integer({ min: 1, max: Math.max(1, t.length - 1) }), {
      maxLength: Math.min(40, t.length),
    })
    .map((cuts) => ({ text: t, cuts: [...cuts].sort((a, b) => a - b) })),
);

function pieces(t: string, cuts: readonly number[]): string[] {
  const out: string[] = [];
  let at = 0;
  for (const c of [...cuts, t.length]) {
    if (c > at) out.push(t.slice(at, c));
    at = Math.max(at, c);
  }
  return out;
}

/** The masking of the whole text at once: one plain scan, no incremental decisions. */
const maskedAtOnce = (t: string) => maskAtOnce(t, detectors);

const RUNS = 100_000;

describe('stream masking equals masking the whole text, for every chunking', () => {
  it(`holds for ${RUNS} random texts and chunkings across all detectors`, () => {
    let differences = 0;
    fc.assert(
      fc.property(cutText, fc.integer({ min: 1, max: 64 }), ({ text: t, cuts }, batch) => {
        const whole = maskedAtOnce(t);
        const masker = new StreamMasker(detectors, undefined, batch);
        let emitted = '';
        for (const piece of pieces(t, cuts)) {
          const out = masker.push(piece);
          // Never a surrogate pair cut in two, and never anything the whole masking would not send.
          if (out !== '') {
            expect(/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(out)).toBe(false);
          }
          emitted += out;
          if (!whole.startsWith(emitted)) differences++;
          expect(whole.startsWith(emitted)).toBe(true);
        }
        emitted += masker.flush();
        if (emitted !== whole) differences++;
        expect(emitted).toBe(whole);
      }),
      { numRuns: RUNS, seed: 20261202 },
    );
    expect(differences).toBe(0);
  }, 600_000);

  it('masks two card numbers one space apart, as unstreamed', () => {
    const t = 'cards 4242 4242 4242 4242 4242 4242 4242 4242 end';
    expect(maskedAtOnce(t)).toBe('cards <CREDIT_CARD> <CREDIT_CARD> end');
    for (let size = 1; size < 12; size++) {
      const m = new StreamMasker(detectors, undefined, 1);
      let out = '';
      for (let at = 0; at < t.length; at += size) out += m.push(t.slice(at, at + size));
      expect(out + m.flush()).toBe('cards <CREDIT_CARD> <CREDIT_CARD> end');
    }
  });
});

describe('streamed chunks: every text field is masked, the final chunk says whose stream it is', () => {
  const chunk = (choice: Record<string, unknown>) => {
    const c = {
      id: 'chatcmpl-1',
      object: 'chat.completion.chunk',
      created: 1700000000,
      model: 'gpt-x',
      choices: [choice],
    };
    return { data: JSON.stringify(c), chunk: c };
  };
  const secret = 'mail jane.doe@example.com key sk-proj-AbCdEfGhIjKlMnOpQrStUvWx12 ok';
  const split = (s: string) => s.match(/.{1,3}/gs) ?? [];

  it('masks content, reasoning and tool-call arguments as whole texts would be', () => {
    const masker = streamPayloadMasker(detectors);
    const out = [
      ...split(secret).flatMap((p) => masker(chunk({ index: 0, delta: { content: p } }))),
      ...split(secret).flatMap((p) => masker(chunk({ index: 0, delta: { reasoning_content: p } }))),
      ...split(`{"to":"${'jane.doe@example.com'}"}`).flatMap((p) =>
        masker(chunk({ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: p } }] } })),
      ),
      ...masker({ data: '[DONE]' }),
    ];
    const parsed = out.filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
    const field = (get: (d: Record<string, unknown>) => unknown) =>
      parsed.map((c) => get(c.choices[0]?.delta ?? {}) ?? '').join('');
    expect(field((d) => d.content)).toBe('mail <EMAIL> key <SECRET> ok');
    expect(field((d) => d.reasoning_content)).toBe('mail <EMAIL> key <SECRET> ok');
    expect(
      field(
        (d) => (d.tool_calls as { function: { arguments: string } }[] | undefined)?.[0]?.function.arguments,
      ),
    ).toBe('{"to":"<EMAIL>"}');
    expect(parsed.at(-1)).toMatchObject({ id: 'chatcmpl-1', model: 'gpt-x', created: 1700000000 });
    expect(out.at(-1)?.data).toBe('[DONE]');
  });

  it('masks streamed completions text', () => {
    const masker = streamPayloadMasker(detectors);
    const completion = (text: string, finish: string | null = null) => {
      const c = {
        id: 'cmpl-1',
        object: 'text_completion',
        created: 1,
        model: 'm',
        choices: [{ index: 0, text, finish_reason: finish }],
      };
      return { data: JSON.stringify(c), chunk: c };
    };
    const parts = split(secret);
    const out = parts.flatMap((p, i) => masker(completion(p, i === parts.length - 1 ? 'stop' : null)));
    expect(out.map((e) => JSON.parse(e.data).choices[0].text).join('')).toBe('mail <EMAIL> key <SECRET> ok');
  });
});
