import { type Detector, newScanWork } from '../../proxy/src/guard/detector.ts';
import { type Finding, keepNonOverlapping } from '../../proxy/src/guard/scan.ts';
import { ScanText } from '../../proxy/src/guard/scan-text.ts';

/**
 * The reference stream masking is checked against: every detector run over the whole text at once,
 * findings merged, masks applied to the original — no incremental decisions, no held-back text.
 */
export function maskAtOnce(original: string, detectors: readonly Detector[]): string {
  const scanned = ScanText.of(original);
  const found: Finding[] = [];
  const work = newScanWork();
  for (const detector of detectors)
    for (
      let m = detector.next(scanned.text, 0, work);
      m !== undefined;
      m = detector.next(scanned.text, m.end, work)
    )
      found.push({ detector, start: m.start, end: m.end });
  let out = '';
  let at = 0;
  for (const f of keepNonOverlapping(found)) {
    const [start, end] = scanned.toOriginal(f.start, f.end);
    out += original.slice(at, start) + f.detector.replacement;
    at = end;
  }
  return out + original.slice(at);
}
