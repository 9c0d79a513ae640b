import { CONTEXT_AFTER, CONTEXT_BEFORE, type Detector, newScanWork } from './detector.ts';
import { type Finding, keepNonOverlapping } from './scan.ts';
import { ScanText } from './scan-text.ts';

/** Scanned text kept before the decided point beyond what look-behinds need, before it is dropped. */
const DROP_SLACK = 8_192;

/**
 * Scans text that arrives in pieces — a streamed answer, or a large prompt scanned a slice at a time
 * so the event loop is never held for long — and decides exactly the findings one scan of the whole
 * text would, whatever the cuts.
 *
 * Each detector keeps its own search position. A match is final once it starts where the detector
 * cannot be changed by text still to come: `maxLength + CONTEXT_AFTER` before the end, or, for a
 * detector with trigger literals, before the next occurrence of one. Findings of all detectors are
 * then merged in text order up to the point every detector has decided. Each call searches only text
 * not yet decided, and callers call it every `batch` characters, so the work is linear in the text.
 */
export class IncrementalScan {
  readonly scanned: ScanText;
  readonly detectors: readonly Detector[];
  /** How much new text is worth a decision (larger holdback, larger batches: linear either way). */
  readonly batch: number;
  /** Characters of scanned text dropped from the front: offsets below are absolute. */
  #base = 0;
  #searchFrom: number[];
  #pending: Finding[] = [];
  #covered = 0;
  #decided = 0;
  #decidedAtLength = 0;
  readonly #work = newScanWork();

  /**
   * `batch` overrides the default (half the holdback, at least 256 characters); `scanned` starts
   * from text known in full, decided a part at a time with `decide(false, upTo)`.
   */
  constructor(detectors: readonly Detector[], options: { batch?: number; scanned?: ScanText } = {}) {
    const { batch } = options;
    this.scanned = options.scanned ?? new ScanText();
    this.detectors = detectors;
    this.#searchFrom = detectors.map(() => 0);
    const holdback = Math.max(0, ...detectors.map((d) => (d.triggers ? 0 : d.maxLength)));
    this.batch = batch ?? Math.max(256, holdback >> 1);
  }

  /** Absolute scanned offset up to which findings are decided. */
  get decided(): number {
    return this.#decided;
  }

  /** Absolute scanned length. */
  get length(): number {
    return this.#base + this.scanned.text.length;
  }

  append(original: string): void {
    this.scanned.append(original);
  }

  /** Whether enough text arrived since the last decision to make another worth its cost. */
  due(): boolean {
    return this.length - this.#decidedAtLength >= this.batch;
  }

  /**
   * Decides as far as the text (or its first `upTo` characters) allows (everything when `final`),
   * returning the newly decided
   * findings in absolute scanned offsets: Mask findings merged so none overlap, then Reject and Audit
   * ones as found. Everything before `decided` is settled from then on.
   */
  decide(final: boolean, upTo?: number): Finding[] {
    if (final) this.scanned.end();
    // A prefix of flat text is a cheap slice; growing text by appending to it would be re-copied
    // by every regex that reads it.
    const text = upTo === undefined ? this.scanned.text : this.scanned.text.slice(0, upTo - this.#base);
    const base = this.#base;
    const total = base + text.length;
    this.#decidedAtLength = total;
    let known = total;
    for (let i = 0; i < this.detectors.length; i++) {
      const d = this.detectors[i]!;
      const safe = final ? total : safeEnd(d, text, base, this.#searchFrom[i]!);
      let from = this.#searchFrom[i]!;
      while (from < safe) {
        const m = d.next(text, from - base, this.#work);
        if (m === undefined || m.start + base >= safe) {
          from = safe;
          break;
        }
        // A match reaching the end seen so far might reach further with more text: undecided.
        if (!final && m.end + base + CONTEXT_AFTER > total) {
          from = m.start + base;
          break;
        }
        this.#pending.push({ detector: d, start: m.start + base, end: m.end + base });
        from = m.end + base;
      }
      this.#searchFrom[i] = from;
      if (from < known) known = from;
    }
    const ready = this.#pending.filter((f) => f.start < known);
    this.#pending = this.#pending.filter((f) => f.start >= known);
    // Only masks must not overlap (each span is replaced once); a Reject or Audit finding counts even
    // where a masking detector of another guard matched the same text.
    const kept = keepNonOverlapping(
      ready.filter((f) => f.detector.action === 'Mask'),
      this.#covered,
    );
    if (kept.length > 0) this.#covered = kept.at(-1)!.end;
    this.#decided = Math.max(this.#decided, known, this.#covered);
    return [...kept, ...ready.filter((f) => f.detector.action !== 'Mask')];
  }

  /** Forgets scanned text far enough before `upTo`; returns how many original characters went. */
  dropBefore(upTo: number): number {
    const cut = upTo - CONTEXT_BEFORE - this.#base;
    if (cut < DROP_SLACK) return 0;
    this.#base += cut;
    return this.scanned.dropBefore(cut);
  }

  /** Original offset (relative to what was not yet dropped) of absolute scanned offset `at`. */
  toOriginal(start: number, end: number): [number, number] {
    return this.scanned.toOriginal(start - this.#base, end - this.#base);
  }

  /** Original offset of the scanned character at absolute `at` (or the end). */
  originalAt(at: number): number {
    const rel = at - this.#base;
    return rel < this.scanned.text.length
      ? this.scanned.toOriginal(rel, rel + 1)[0]
      : this.scanned.scannedOriginalEnd;
  }
}

/**
 * The first position at or after `from` where a match could still change with more text. Without
 * triggers, a match may start anywhere and reach `maxLength` on; with them, only where a trigger
 * starts (or might be forming at the very end).
 */
function safeEnd(d: Detector, text: string, base: number, from: number): number {
  const total = base + text.length;
  const undecidable = total - d.maxLength - CONTEXT_AFTER;
  if (!d.triggers) return Math.max(from, undecidable);
  const searchAt = Math.max(from, undecidable) - base;
  let first = Number.POSITIVE_INFINITY;
  let longest = 0;
  for (const t of d.triggers) {
    const at = text.indexOf(t, searchAt);
    if (at !== -1 && at < first) first = at;
    if (t.length > longest) longest = t.length;
  }
  const forming = total - (longest - 1);
  return Math.max(from, Math.min(first + base, forming));
}
