import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../cluster/install.ts';

const run = promisify(execFile);

/**
 * The compile cache the images carry (images/build.sh runs the warm-up with NODE_COMPILE_CACHE, as the
 * images start with it): a start must find every TypeScript module already stripped there. A module
 * that misses loads Node's type stripper (~25 MiB and a tenth of a second per process) on every start
 * of every proxy pod, and a read-only image root never lets it be written.
 */
describe('the compile cache made for the images', () => {
  const cache = mkdtempSync(join(tmpdir(), 'sluice-compile-cache-'));
  const env = { ...process.env, NODE_COMPILE_CACHE: cache, NODE_COMPILE_CACHE_PORTABLE: '1' };
  beforeAll(async () => {
    await run(process.execPath, [join(REPO_ROOT, 'cli/src/warm-compile-cache.ts')], { env });
  }, 120_000);
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  /** The TypeScript files a process had to type-strip because the cache did not hold them. */
  async function stripped(args: string[]): Promise<string[]> {
    const { stderr } = await run(process.execPath, args, {
      env: { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
      cwd: REPO_ROOT,
    });
    expect(stderr).toContain('[compile cache]'); // the debug output this test reads is there at all
    return [...stderr.matchAll(/no transpile cache for StrippedTypeScript (\S+)/g)].map((m) => m[1]!);
  }

  it('serves the CLI entry and everything the operator loads', async () => {
    expect(await stripped(['cli/src/main.ts', 'operator', '--help'])).toEqual([]);
  });

  it('serves the CLI at its old path', async () => {
    expect(await stripped(['operator/src/cli/main.ts', '--help'])).toEqual([]);
  });

  it("serves the proxy's token-count worker thread", async () => {
    const startWorker = `
      const { Worker } = require('node:worker_threads');
      const worker = new Worker(process.argv[1]);
      worker.on('message', () => worker.terminate());
      worker.postMessage({ id: 1, texts: ['hello'] });`;
    expect(
      await stripped(['-e', startWorker, join(REPO_ROOT, 'proxy/src/ai/token-count-worker.ts')]),
    ).toEqual([]);
  });
});
