import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventStreamDecoder } from './event-stream.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 200);

function frame(kind: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  const typeHeader = kind === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: kind },
      [typeHeader]: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** `bytes` cut at `cuts` (positions, any order), fed to one decoder piece by piece. */
function decodeInPieces(bytes: Uint8Array, cuts: number[]) {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const decoder = new EventStreamDecoder();
  const events = [];
  let from = 0;
  for (const to of [...points, bytes.length]) {
    events.push(...decoder.push(bytes.subarray(from, to)));
    from = to;
  }
  return events;
}

describe('AWS event-stream decoding (ConverseStream frames)', () => {
  const frames = [
    frame('event', 'messageStart', { role: 'assistant' }),
    frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Grüße, ' } }),
    frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'monde 🌍' } }),
    frame('event', 'messageStop', { stopReason: 'end_turn' }),
    frame('exception', 'throttlingException', { message: 'slow down' }),
  ];
  const whole = Buffer.concat(frames);
  const expected = [
    { event: 'messageStart', data: '{"role":"assistant"}' },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"Grüße, "}}' },
    { event: 'contentBlockDelta', data: '{"contentBlockIndex":0,"delta":{"text":"monde 🌍"}}' },
    { event: 'messageStop', data: '{"stopReason":"end_turn"}' },
    { event: 'exception:throttlingException', data: '{"message":"slow down"}' },
  ];

  it('yields each frame once, named by its type, however the network cuts the bytes', () => {
    expect(decodeInPieces(whole, [])).toEqual(expected);
    // Every single byte on its own: the worst a slow network does.
    expect(
      decodeInPieces(
        whole,
        Array.from({ length: whole.length }, (_, i) => i),
      ),
    ).toEqual(expected);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 40 }), (cuts) => {
        expect(decodeInPieces(whole, cuts)).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('a frame that does not decode ends the stream with one exception event, whatever follows', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 512 }), fc.nat(), (garbage, at) => {
        // Valid frames, then bytes whose prelude checksum cannot hold, then more valid frames.
        const bad = Buffer.from(garbage);
        bad.writeUInt32BE(Math.max(16, bad.length), 0);
        bad.writeUInt32BE(0, 8);
        const events = decodeInPieces(Buffer.concat([frames[0]!, bad, frames[1]!]), [at]);
        expect(events[0]).toEqual(expected[0]);
        expect(events.slice(1)).toEqual([
          {
            event: 'exception:malformedStream',
            data: '{"message":"the provider sent a stream frame that does not decode"}',
          },
        ]);
      }),
      { numRuns: RUNS },
    );
  });
});
