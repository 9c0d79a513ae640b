import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { SseEvent } from '../../sse.ts';
import type { StreamDecoder } from '../adapter.ts';

/** A frame's first four bytes are its total length; AWS's limit is 16 MiB, a frame is at least 16 bytes. */
const MAX_FRAME = 16 * 1024 * 1024;
const MIN_FRAME = 16;

/** The event name given to an exception frame: this prefix and the exception type. */
export const EXCEPTION_EVENT_PREFIX = 'exception:';

const text = new TextDecoder();

/**
 * AWS event-stream framing (what ConverseStream answers with: binary frames with headers, a JSON
 * payload and CRCs) → the events the stream converters take, named by `:event-type`. AWS's own codec
 * checks each frame (checksums, headers); cutting the byte stream into frames is done here. An
 * exception frame becomes an event named `exception:<type>`;
 * a frame that does not decode (bad checksum, garbage) ends the stream as such an exception, since
 * nothing after it can be trusted.
 */
export class EventStreamDecoder implements StreamDecoder {
  readonly #codec = new EventStreamCodec(toUtf8, fromUtf8);
  /** Bytes of frames not complete yet. */
  #chunks: Buffer[] = [];
  #length = 0;
  #broken = false;

  push(chunk: Uint8Array): SseEvent[] {
    if (this.#broken) return [];
    const events: SseEvent[] = [];
    try {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.#length += chunk.byteLength;
      for (let frame = this.#nextFrame(); frame; frame = this.#nextFrame()) events.push(eventOf(frame));
    } catch {
      // The frames before the bad one stand; nothing after it can be trusted.
      this.#broken = true;
      this.#chunks = [];
      events.push({
        event: `${EXCEPTION_EVENT_PREFIX}malformedStream`,
        data: JSON.stringify({ message: 'the provider sent a stream frame that does not decode' }),
      });
    }
    return events;
  }

  /**
   * The next whole frame, checksums verified, or undefined until its bytes are all there (the codec
   * decodes one whole frame; cutting the byte stream into frames is ours). Bytes are joined only once
   * a whole frame is there, so a frame dripped byte by byte costs one copy.
   */
  #nextFrame(): Message | undefined {
    if (this.#length < 4) return undefined;
    if (this.#chunks[0]!.length < 4) this.#chunks = [Buffer.concat(this.#chunks)];
    const total = this.#chunks[0]!.readUInt32BE(0);
    if (total < MIN_FRAME || total > MAX_FRAME) throw new Error(`frame length ${total}`);
    if (this.#length < total) return undefined;
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    const rest = bytes.subarray(total);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#length = rest.length;
    return this.#codec.decode(bytes.subarray(0, total));
  }
}

type Message = ReturnType<EventStreamCodec['decode']>;

/** A frame as the event the converters take: named by its event or exception type. */
function eventOf(m: Message): SseEvent {
  const header = (name: string) => {
    const h = m.headers[name];
    return h?.type === 'string' ? h.value : undefined;
  };
  const kind = header(':message-type');
  const data = text.decode(m.body);
  if (kind === 'event') return { event: header(':event-type'), data };
  if (kind === 'exception') return { event: `${EXCEPTION_EVENT_PREFIX}${header(':exception-type')}`, data };
  return {
    event: `${EXCEPTION_EVENT_PREFIX}${header(':error-code') ?? 'error'}`,
    data: JSON.stringify({ message: header(':error-message') ?? 'provider error' }),
  };
}
