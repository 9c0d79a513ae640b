import { describe, expect, it } from 'vitest';
import { BUILTIN_DETECTORS, type BuiltinDetector } from '../proxy/src/config/guards.ts';
import { scanWhole } from '../proxy/src/guard/scan-whole.ts';
import { CORPUS } from './data/guard-corpus.ts';
import { MASK_EVERY_BUILTIN, testGuard } from './support/guards.ts';

/** Targets per detector on the corpus (issue 15). */
const RECALL = 0.97;
const PRECISION = 0.98;

/** Every built-in together, as a guard that masks them all runs them. */
const { detectors } = testGuard({ builtins: MASK_EVERY_BUILTIN });

interface Score {
  tp: number;
  fp: number;
  fn: number;
  misses: string[];
  falseAlarms: string[];
}

/**
 * Runs all built-ins over every case and scores each detector: a labelled secret is found when a
 * finding of its own detector covers all of it; any other finding of a detector is a false alarm
 * (a phone detector firing on a card number counts against the phone detector).
 */
async function score(): Promise<Map<BuiltinDetector, Score>> {
  const scores = new Map(
    BUILTIN_DETECTORS.map((d) => [d, { tp: 0, fp: 0, fn: 0, misses: [], falseAlarms: [] } as Score]),
  );
  for (const c of CORPUS) {
    const { scan, findings } = await scanWhole(c.text, detectors);
    const spans = findings.map((f) => ({
      detector: f.detector.name as BuiltinDetector,
      span: scan.toOriginal(f.start, f.end),
      used: false,
    }));
    for (const secret of c.secrets) {
      const at = c.text.indexOf(secret);
      const hit = spans.find(
        (s) => s.detector === c.detector && s.span[0] <= at && s.span[1] >= at + secret.length,
      );
      const s = scores.get(c.detector)!;
      if (hit) {
        hit.used = true;
        s.tp++;
      } else {
        s.fn++;
        s.misses.push(JSON.stringify(c.text));
      }
    }
    for (const f of spans.filter((x) => !x.used)) {
      const s = scores.get(f.detector)!;
      s.fp++;
      s.falseAlarms.push(`${JSON.stringify(c.text.slice(f.span[0], f.span[1]))} in ${c.detector} ${c.kind}`);
    }
  }
  return scores;
}

describe('built-in detectors on the labelled corpus', () => {
  it(`meet recall ≥ ${RECALL * 100}% and precision ≥ ${PRECISION * 100}% each (${CORPUS.length} cases)`, async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(600);
    const scores = await score();
    const rows = [...scores].map(([d, s]) => {
      const recall = s.tp / (s.tp + s.fn);
      const precision = s.tp / (s.tp + s.fp);
      return { d, s, recall, precision };
    });
    console.log(
      `PromptGuard detectors on ${CORPUS.length} labelled cases:\n${rows
        .map(
          ({ d, s, recall, precision }) =>
            `  ${d.padEnd(13)} recall ${(recall * 100).toFixed(1).padStart(5)}%  precision ${(precision * 100).toFixed(1).padStart(5)}%  (tp ${s.tp}, fn ${s.fn}, fp ${s.fp})${s.misses.length ? `\n    missed: ${s.misses.join(', ')}` : ''}${s.falseAlarms.length ? `\n    false alarms: ${s.falseAlarms.join(', ')}` : ''}`,
        )
        .join('\n')}`,
    );
    for (const { d, recall, precision } of rows) {
      expect({ detector: d, recall: recall >= RECALL, precision: precision >= PRECISION }).toEqual({
        detector: d,
        recall: true,
        precision: true,
      });
    }
  });
});
