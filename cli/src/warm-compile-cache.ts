import './compile-cache.ts';
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * Fills the compile cache (NODE_COMPILE_CACHE, else Node's default) with every module of the
 * product, for images/build.sh and the operator bench:
 * importing a module compiles it without running anything but its definitions. The entries that act
 * on load — the CLI and its old path — are cached by running them with `--help` (the entry a process
 * starts from is type-stripped before the CLI can enable the cache, so only a cache enabled from the
 * environment, as the images do, can serve it; without it every start loaded the type stripper:
 * 0.24 s and 80 MiB for `operator --help` against 0.12 s and 55 MiB).
 */
const ROOT = join(import.meta.dirname, '../..');
const ENTRIES = ['cli/src/main.ts', 'operator/src/cli/main.ts'];
const ACTS_ON_LOAD = new Set([...ENTRIES, 'cli/src/warm-compile-cache.ts']);

for (const dir of ['lib/src', 'operator/src', 'proxy/src', 'cli/src']) {
  for (const entry of await readdir(join(ROOT, dir), { recursive: true })) {
    const path = join(ROOT, dir, entry);
    if (!entry.endsWith('.ts') || entry.endsWith('.test.ts') || ACTS_ON_LOAD.has(relative(ROOT, path)))
      continue;
    // Test helpers that sit beside the sources import development packages the images do not carry.
    await import(path).catch((err: Error) =>
      process.stderr.write(`not cached: ${relative(ROOT, path)}: ${err.message}\n`),
    );
  }
}

// Node's default folder when NODE_COMPILE_CACHE is not set (the operator bench, a developer's machine).
const cacheDir = process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache');
for (const entry of ENTRIES)
  execFileSync(process.execPath, [join(ROOT, entry), '--help'], {
    env: { ...process.env, NODE_COMPILE_CACHE: cacheDir },
    stdio: 'ignore',
  });
