import type { Readable, Writable } from 'node:stream';

/**
 * A request body streamed to the upstream as it arrives, with a copy kept (up to a limit) so a retry
 * can send it again: the new attempt gets what was read so far, then the rest as it comes. Nothing
 * waits for the whole body first, so a gRPC stream that the client keeps open works with retries on.
 * Past the limit the copy is dropped and the body can no longer be replayed.
 */
export class ReplayableBody {
  readonly #source: Readable;
  readonly #limit: number;
  #copy: Buffer[] = [];
  #held = 0;
  #overflowed = false;
  #ended = false;
  #sink: Writable | undefined;

  constructor(source: Readable, limit: number) {
    this.#source = source;
    this.#limit = limit;
    source.on('data', (chunk: Buffer) => this.#chunk(chunk));
    source.once('end', () => {
      this.#ended = true;
      this.#sink?.end();
    });
  }

  /** Whether another attempt can still be given the whole body. */
  get replayable(): boolean {
    return !this.#overflowed;
  }

  /** Makes `sink` (a new attempt's request stream) the body's destination, from the first byte. */
  sendTo(sink: Writable): void {
    this.#sink = sink;
    for (const chunk of this.#copy) sink.write(chunk);
    if (this.#ended) sink.end();
    else this.#source.resume();
  }

  /** The attempt reading the body failed: nothing more goes to it, and reading waits for the next. */
  detach(): void {
    this.#sink = undefined;
    this.#source.pause();
  }

  #chunk(chunk: Buffer): void {
    if (!this.#overflowed) {
      this.#held += chunk.length;
      if (this.#held > this.#limit) {
        this.#overflowed = true;
        this.#copy = [];
      } else this.#copy.push(chunk);
    }
    const sink = this.#sink;
    if (sink && !sink.write(chunk)) {
      this.#source.pause();
      sink.once('drain', () => {
        if (this.#sink === sink) this.#source.resume();
      });
    }
  }
}
