import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from './sse.ts';

const STREAM =
  'event: message_start\ndata: {"a":1}\n\n' +
  ': keep-alive comment\n\n' +
  'data: {"b":"multi"}\ndata: {"line":2}\r\n\r\n' +
  'data: {"text":"héllo ✓ 日本"}\n\n' +
  'data: [DONE]\n\n';

function parseWhole(text: string): SseEvent[] {
  return new SseParser().push(new TextEncoder().encode(text));
}

describe('SseParser', () => {
  it('parses events, names, multi-line data, CRLF and comments', () => {
    expect(parseWhole(STREAM)).toEqual([
      { event: 'message_start', data: '{"a":1}' },
      { event: undefined, data: '{"b":"multi"}\n{"line":2}' },
      { event: undefined, data: '{"text":"héllo ✓ 日本"}' },
      { event: undefined, data: '[DONE]' },
    ]);
  });

  it('gives the same events for any chunking, even inside multi-byte characters', () => {
    const bytes = new TextEncoder().encode(STREAM);
    const expected = parseWhole(STREAM);
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 500; run++) {
      const parser = new SseParser();
      const events: SseEvent[] = [];
      let at = 0;
      while (at < bytes.length) {
        const size = 1 + Math.floor(random() * 12);
        events.push(...parser.push(bytes.subarray(at, at + size)));
        at += size;
      }
      expect(events).toEqual(expected);
    }
  });
});
