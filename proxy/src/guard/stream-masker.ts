import type { Detector } from './detector.ts';
import { IncrementalScan } from './incremental-scan.ts';
import type { Finding } from './scan.ts';

/**
 * Masks streamed text split at arbitrary points. The output equals masking the whole text at once,
 * for every way of cutting it (IncrementalScan decides each finding exactly as a whole-text scan
 * does); only text a detector could still change is held back, and nothing is emitted that ends
 * inside a secret or inside a UTF-16 surrogate pair.
 */
export class StreamMasker {
  readonly #scan: IncrementalScan;
  readonly #onFinding: ((f: Finding) => void) | undefined;
  /** Original text not yet emitted, and the context before it that the scan still holds. */
  #original = '';
  #emitted = 0;

  /** `batch`: characters between two decisions (see IncrementalScan); smaller holds back less. */
  constructor(detectors: readonly Detector[], onFinding?: (f: Finding) => void, batch?: number) {
    this.#scan = new IncrementalScan(detectors, batch === undefined ? {} : { batch });
    this.#onFinding = onFinding;
  }

  /** Adds streamed text; returns the masked text that is now safe to send. */
  push(text: string): string {
    this.#scan.append(text);
    this.#original += text;
    return this.#scan.due() ? this.#emit(this.#scan.decide(false)) : '';
  }

  /** The end of the stream: everything left, masked. */
  flush(): string {
    return this.#emit(this.#scan.decide(true));
  }

  #emit(kept: readonly Finding[]): string {
    const scan = this.#scan;
    const upTo = scan.originalAt(scan.decided);
    let out = '';
    let at = this.#emitted;
    for (const f of kept) {
      this.#onFinding?.(f);
      const [start, end] = scan.toOriginal(f.start, f.end);
      if (start < at) continue;
      out += this.#original.slice(at, start) + f.detector.replacement;
      at = end;
    }
    if (upTo > at) out += this.#original.slice(at, upTo);
    const dropped = scan.dropBefore(scan.decided);
    this.#original = this.#original.slice(dropped);
    this.#emitted = Math.max(at, upTo) - dropped;
    return out;
  }
}
