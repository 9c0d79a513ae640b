import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Detector } from './detector.ts';
import { IncrementalScan } from './incremental-scan.ts';
import type { Finding } from './scan.ts';

/** Characters scanned between two yields to the event loop: a few milliseconds of work at most. */
const SLICE = 32_768;

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
  const scan = new IncrementalScan(detectors);
  const findings: Finding[] = [];
  if (detectors.length === 0) return { scan, findings };
  let at = 0;
  for (; original.length - at > SLICE; at += SLICE) {
    scan.append(original.slice(at, at + SLICE));
    findings.push(...scan.decide(false));
    await yieldToEventLoop();
  }
  scan.append(original.slice(at));
  findings.push(...scan.decide(true));
  return { scan, findings };
}
