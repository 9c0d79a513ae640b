import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Detector } from './detector.ts';
import { IncrementalScan } from './incremental-scan.ts';
import type { Finding } from './scan.ts';
import { ScanText } from './scan-text.ts';

/** Characters scanned between two yields to the event loop: a few milliseconds of work at most. */
const SLICE = 8_192;

export interface ScannedText {
  scan: IncrementalScan;
  /** Non-overlapping findings, in scanned-text offsets (`scan.toOriginal` maps them back). */
  findings: Finding[];
}

/**
 * Scans one whole text. A long one is scanned a slice at a time with a yield to the event loop in
 * between, so a 1 MiB prompt never holds up other requests for more than one slice; the incremental
 * scan makes the result identical to a single pass.
 */
export async function scanWhole(original: string, detectors: readonly Detector[]): Promise<ScannedText> {
  const scan = new IncrementalScan(detectors, { scanned: ScanText.of(original) });
  const findings: Finding[] = [];
  if (detectors.length === 0) return { scan, findings };
  for (let upTo = SLICE; upTo < scan.length; upTo += SLICE) {
    findings.push(...scan.decide(false, upTo));
    await yieldToEventLoop();
  }
  findings.push(...scan.decide(true));
  return { scan, findings };
}
