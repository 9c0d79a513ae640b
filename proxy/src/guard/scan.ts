import { type Detector, newScanWork } from './detector.ts';
import type { ScanText } from './scan-text.ts';

export interface Finding {
  detector: Detector;
  start: number;
  end: number;
}

/** Every detector's matches in `text` (scanned-text offsets), each detector's own sequence. */
export function candidates(text: string, detectors: readonly Detector[], from = 0): Finding[] {
  const found: Finding[] = [];
  const work = newScanWork();
  for (const detector of detectors) {
    for (let m = detector.next(text, from, work); m !== undefined; m = detector.next(text, m.end, work))
      found.push({ detector, start: m.start, end: m.end });
  }
  return found;
}

/**
 * Merges candidates of several detectors: in text order, at one position the longer match wins, and
 * a candidate overlapping one kept before it is dropped. `covered` is where the last kept one ended.
 */
export function keepNonOverlapping(found: Finding[], covered = 0): Finding[] {
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Finding[] = [];
  for (const f of found) {
    if (f.start < covered) continue;
    kept.push(f);
    covered = f.end;
  }
  return kept;
}

/** Non-overlapping findings in text order. */
export function scan(text: string, detectors: readonly Detector[]): Finding[] {
  return keepNonOverlapping(candidates(text, detectors));
}

/**
 * The original text with every Mask finding replaced, findings given in scanned-text offsets of
 * `scanned` and mapped back to the original's, so characters dropped by normalisation inside a
 * secret (a zero-width space) go with it.
 */
export function mask(original: string, scanned: ScanText, findings: readonly Finding[]): string {
  let out = '';
  let at = 0;
  for (const f of findings) {
    if (f.detector.action !== 'Mask') continue;
    const [start, end] = scanned.toOriginal(f.start, f.end);
    if (start < at) continue;
    out += original.slice(at, start) + f.detector.replacement;
    at = end;
  }
  return out + original.slice(at);
}
