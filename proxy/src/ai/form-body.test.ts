import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeForm, type FormPart, parseForm } from './form-body.ts';

describe('multipart forms', () => {
  it('parses what it writes: text fields as the pipeline left them, files byte for byte', async () => {
    const name = fc.stringMatching(/^[a-z_[\]]{1,12}$/);
    const part = fc.oneof(
      fc.record({ name, value: fc.string({ maxLength: 50 }) }),
      fc.record({
        name,
        filename: fc.stringMatching(/^[a-z]{1,8}\.wav$/),
        type: fc.constant('audio/wav'),
        data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 6 }), async (parts: FormPart[]) => {
        const encoded = encodeForm(parts, { model: 'upstream-model' });
        const parsed = await parseForm(encoded.body, encoded.contentType);
        expect(parsed?.parts.length).toBe(parts.length);
        for (const [i, p] of parts.entries()) {
          const got = parsed!.parts[i]!;
          expect(got.name).toBe(p.name);
          if ('data' in p) expect('data' in got && Buffer.compare(got.data, p.data)).toBe(0);
          else if (p.name !== 'model' || parts.findIndex((q) => q.name === 'model') !== i)
            expect('value' in got && got.value.replace(/\r\n/g, '\n')).toBe(
              p.value.replace(/\r\n|\r/g, '\n'),
            );
        }
      }),
      { numRuns: 200 },
    );
  });

  it('writes the model the target takes, and escapes what would break a header', async () => {
    const encoded = encodeForm(
      [
        { name: 'model', value: 'client-model' },
        { name: 'na"me\r\nX-Evil: 1', value: 'v' },
      ],
      { model: 'target-model' },
    );
    const text = encoded.body.toString();
    expect(text).toContain('\r\n\r\ntarget-model\r\n');
    expect(text).not.toContain('\r\nX-Evil');
    expect((await parseForm(encoded.body, encoded.contentType))?.fields.model).toBe('target-model');
  });

  it('reads nothing out of bytes that are no form', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (bytes) => {
        const parsed = await parseForm(Buffer.from(bytes), 'multipart/form-data; boundary=sluice-boundary');
        if (parsed) expect(Array.isArray(parsed.parts)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
