import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Golden tests over a folder: each `<kind>-<case>.in.json` goes through `translate(name, input)` and
 * must print exactly as `<kind>-<case>.out.json`. Every kind in `kinds` must have a case. Regenerate
 * with UPDATE_GOLDEN=1 and review the diff.
 */
export function goldenFiles(
  dir: string,
  title: string,
  kinds: readonly string[],
  translate: (name: string, input: unknown) => unknown,
): void {
  const cases = readdirSync(dir)
    .filter((f) => f.endsWith('.in.json'))
    .map((f) => f.slice(0, -'.in.json'.length))
    .sort();
  describe(title, () => {
    it(`covers ${kinds.join(', ')}`, () => {
      for (const kind of kinds) expect(cases.some((c) => c.startsWith(`${kind}-`))).toBe(true);
    });

    it.each(cases)('%s', (name) => {
      const input = JSON.parse(readFileSync(join(dir, `${name}.in.json`), 'utf8'));
      const actual = `${JSON.stringify(translate(name, input), null, 2)}\n`;
      const outPath = join(dir, `${name}.out.json`);
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(outPath, actual);
      expect(actual).toBe(readFileSync(outPath, 'utf8'));
    });
  });
}
