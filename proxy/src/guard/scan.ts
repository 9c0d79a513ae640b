import type { Detector } from './detector.ts';

export interface Finding {
  detector: Detector;
  start: number;
  end: number;
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
