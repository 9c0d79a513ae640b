import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStoredResponseId, storedIdRewriter, storedResponseId } from './stored-responses.ts';

describe('stored response ids', () => {
  it('round-trips any reference, and reads nothing out of any other string without throwing', () => {
    const part = fc.string({ minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(part, part, part, part, (model, backend, target, id) => {
        const ref = { model, backend, target, id };
        expect(parseStoredResponseId(storedResponseId(ref))).toEqual(ref);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const parsed = parseStoredResponseId(s);
        if (parsed) expect(storedResponseId(parsed)).toMatch(/^resp_sluice_/);
      }),
    );
    for (const forged of ['resp_sluice_', 'resp_sluice_!!!', `resp_sluice_${btoa('[1,2,3,4]')}`, 'resp_abc'])
      expect(parseStoredResponseId(forged)).toBeUndefined();
  });

  it('rewrites the response id in a stream, and only where it is the whole id', () => {
    const rewrite = storedIdRewriter({ model: 'm', backend: 'ns/b', target: 't' });
    const created = { type: 'response.created', response: { id: 'resp_1' } };
    const first = rewrite({ data: JSON.stringify(created), chunk: created });
    const encoded = storedResponseId({ model: 'm', backend: 'ns/b', target: 't', id: 'resp_1' });
    expect(JSON.parse(first.data).response.id).toBe(encoded);
    const item = rewrite({ data: '{"type":"response.output_item.added","item":{"id":"msg_resp_1"}}' });
    expect(item.data).toContain('"msg_resp_1"');
    const done = rewrite({ data: '{"type":"response.completed","response":{"id":"resp_1"}}' });
    expect(JSON.parse(done.data).response.id).toBe(encoded);
  });
});
