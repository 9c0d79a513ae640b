export type Outcome = 'PASS' | 'FAIL' | 'SKIP';

export interface TestResult {
  name: string;
  outcome: Outcome;
  seconds: number;
}

/** The suite's top-level tests (TestConformance/<Name>) and their outcome, from `go test -v` output. */
export function parseResults(output: string): TestResult[] {
  const results: TestResult[] = [];
  for (const m of output.matchAll(/^\s*--- (PASS|FAIL|SKIP): TestConformance\/([^/\s]+) \(([\d.]+)s\)/gm))
    results.push({ name: m[2]!, outcome: m[1] as Outcome, seconds: Number(m[3]) });
  return results;
}

/** A table of every test, failures first, and the totals. */
export function summarize(output: string): string {
  const results = parseResults(output);
  const order: Record<Outcome, number> = { FAIL: 0, SKIP: 1, PASS: 2 };
  results.sort((a, b) => order[a.outcome] - order[b.outcome] || a.name.localeCompare(b.name));
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = results.map((r) => `${r.outcome}  ${r.name.padEnd(width)}  ${r.seconds.toFixed(1)} s`);
  const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
  lines.push(`passed ${count('PASS')}, failed ${count('FAIL')}, skipped ${count('SKIP')}`);
  return lines.join('\n');
}

/**
 * What the suite logged for each failing test (its subtests included), the last lines of each, so a
 * failure seen only in CI, where the log folder is temporary, can be read from the test output. When
 * the suite failed with no test failing (its own set-up, clean-up or report), its own lines instead.
 */
export function failureDetails(output: string, linesPerTest = 40): string {
  const failing = new Set(
    parseResults(output)
      .filter((r) => r.outcome === 'FAIL')
      .map((r) => r.name),
  );
  const suiteFailed = /^--- FAIL: TestConformance \(/m.test(output);
  const SUITE = 'TestConformance (the suite itself)';
  if (suiteFailed && failing.size === 0) failing.add(SUITE);
  const logged = new Map<string, string[]>();
  let current = SUITE;
  for (const line of output.split('\n')) {
    const marker =
      /^(?:=== (?:RUN|CONT|NAME|PAUSE)|\s*--- (?:PASS|FAIL|SKIP):)\s+TestConformance\/([^/\s]+)/.exec(line);
    if (marker) current = marker[1]!;
    else if (/^=== (?:RUN|CONT|NAME)\s+TestConformance\s*$/.test(line)) current = SUITE;
    if (failing.has(current)) {
      const lines = logged.get(current) ?? [];
      lines.push(line);
      logged.set(current, lines);
    }
  }
  return [...logged.entries()]
    .flatMap(([name, lines]) => [`| ${name}:`, ...lines.slice(-linesPerTest).map((l) => `| ${l}`)])
    .join('\n');
}
