import { type FSWatcher, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Calls `onChange` (debounced) when anything under `dir` changes. Each directory gets its own
 * non-recursive watch: Node's recursive mode on Linux loses files that editors replace by rename.
 */
export function watchDirectory(dir: string, onChange: () => void, debounceMs = 100): { close(): void } {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      void rescan().then(onChange);
    }, debounceMs);
  };
  const rescan = async () => {
    if (closed) return;
    const dirs = [dir, ...(await subdirectories(dir))];
    for (const d of dirs) {
      if (watchers.has(d)) continue;
      try {
        watchers.set(
          d,
          watch(d, changed).on('error', () => watchers.get(d)?.close()),
        );
      } catch {
        // Removed between listing and watching: the next change rescans.
      }
    }
    for (const [d, w] of watchers)
      if (!dirs.includes(d)) {
        w.close();
        watchers.delete(d);
      }
  };
  void rescan();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
}
