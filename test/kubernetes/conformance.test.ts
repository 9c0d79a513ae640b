import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SUPPORTED_FEATURES } from '../../operator/src/translator/supported-features.ts';
import { REPO_ROOT } from '../cluster/install.ts';

interface ProfileReport {
  name: string;
  core: { result: string; statistics: { Failed: number; Passed: number; Skipped: number } };
  extended?: {
    result: string;
    statistics: { Failed: number; Passed: number; Skipped: number };
    supportedFeatures?: string[];
  };
}

/**
 * The official Gateway API conformance suite's GATEWAY-HTTP profile, core and the extended features
 * the GatewayClass claims, against the real operator and proxies (`npm run conformance`, which runs
 * every profile, does the same for all of them).
 */
describe('Gateway API conformance (GATEWAY-HTTP)', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes every core test and every extended feature the GatewayClass claims', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-conformance-'));
    const report = join(dir, 'report.yaml');
    const child = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'conformance', 'run.ts'),
        '--profiles',
        'GATEWAY-HTTP',
        '--report',
        report,
        '--log-dir',
        join(dir, 'logs'),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
    // The per-test table names every failure, and the suite's own lines for each follow it ("| ").
    expect(
      code,
      output
        .split('\n')
        .filter((l) => /^(FAIL|passed |\| )/.test(l))
        .join('\n'),
    ).toBe(0);

    const profile = (parse(await readFile(report, 'utf8')) as { profiles: ProfileReport[] }).profiles.find(
      (p) => p.name === 'GATEWAY-HTTP',
    )!;
    expect(profile.core.result).toBe('success');
    expect(profile.core.statistics.Failed).toBe(0);
    expect(profile.core.statistics.Passed).toBeGreaterThan(30);
    expect(profile.extended?.statistics.Failed ?? 0).toBe(0);
    // What the report lists as supported is what the GatewayClass published, read back by the suite.
    for (const feature of profile.extended?.supportedFeatures ?? [])
      expect(SUPPORTED_FEATURES).toContain(feature);
  }, 3_000_000);
});
