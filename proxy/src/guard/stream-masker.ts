import type { Detector } from './compiled-guard.ts';
import { type Finding, mask, scan } from './scan.ts';

/** Characters kept from emitted text so look-behinds at the buffer start see what preceded it. */
const CONTEXT = 16;

/**
 * Masks streamed text split at arbitrary points. It holds back only the last `maxLength` characters
 * (the longest any masking detector can match) plus any match that straddles the emit point, so a
 * secret is never emitted partly unmasked and the result does not depend on how the text was cut.
 */
export class StreamMasker {
  readonly #detectors: readonly Detector[];
  readonly #holdback: number;
  #buffer = '';
  #context = '';

  constructor(detectors: readonly Detector[]) {
    this.#detectors = detectors;
    this.#holdback = Math.max(0, ...detectors.map((d) => d.maxLength));
  }

  /** Adds streamed text; returns the masked text that is now safe to send. */
  push(text: string): string {
    this.#buffer += text;
    let emitUpTo = this.#buffer.length - this.#holdback;
    if (emitUpTo <= 0) return '';
    const findings = this.#findings();
    for (const f of findings) if (f.start < emitUpTo && f.end > emitUpTo) emitUpTo = f.start;
    return this.#emit(
      emitUpTo,
      findings.filter((f) => f.end <= emitUpTo),
    );
  }

  /** The end of the stream: everything left, masked. */
  flush(): string {
    return this.#emit(this.#buffer.length, this.#findings());
  }

  #findings(): Finding[] {
    const offset = this.#context.length;
    return scan(this.#context + this.#buffer, this.#detectors)
      .filter((f) => f.start >= offset)
      .map((f) => ({ ...f, start: f.start - offset, end: f.end - offset }));
  }

  #emit(upTo: number, findings: readonly Finding[]): string {
    const out = this.#buffer.slice(0, upTo);
    this.#context = (this.#context + out).slice(-CONTEXT);
    this.#buffer = this.#buffer.slice(upTo);
    return mask(out, findings);
  }
}
