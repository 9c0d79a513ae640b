import type { Detector } from './compiled-guard.ts';

export interface Finding {
  detector: Detector;
  start: number;
  end: number;
}

/** Non-overlapping findings in text order; at one position the longer match wins. */
export function scan(text: string, detectors: readonly Detector[]): Finding[] {
  const found: Finding[] = [];
  for (const detector of detectors) {
    detector.pattern.lastIndex = 0;
    for (let m = detector.pattern.exec(text); m !== null; m = detector.pattern.exec(text)) {
      if (m[0].length === 0) {
        detector.pattern.lastIndex++;
        continue;
      }
      if (detector.validate && !detector.validate(m[0])) continue;
      found.push({ detector, start: m.index, end: m.index + m[0].length });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Finding[] = [];
  let covered = 0;
  for (const f of found) {
    if (f.start < covered) continue;
    kept.push(f);
    covered = f.end;
  }
  return kept;
}

/** Replaces the findings whose action is Mask with their replacement. */
export function mask(text: string, findings: readonly Finding[]): string {
  let out = '';
  let at = 0;
  for (const f of findings) {
    if (f.detector.action !== 'Mask') continue;
    out += text.slice(at, f.start) + f.detector.replacement;
    at = f.end;
  }
  return out + text.slice(at);
}
