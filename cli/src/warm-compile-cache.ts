import './compile-cache.ts';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * Fills the compile cache (NODE_COMPILE_CACHE, else Node's default) with every module of the
 * product, for images/build.sh and the operator bench:
 * importing a module compiles it without running anything but its definitions. The modules that act
 * on load are left out: the CLI (and its old path), this script and the token-count worker's entry.
 */
const ROOT = join(import.meta.dirname, '../..');
const ACTS_ON_LOAD = new Set([
  'operator/src/cli/main.ts',
  'cli/src/main.ts',
  'cli/src/warm-compile-cache.ts',
  'proxy/src/ai/token-count-worker.ts',
]);

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
