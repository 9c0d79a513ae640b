import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
/** The repository's top-level folders and files: a `code span` starting with one names a path. */
const TOP_LEVEL = [
  ...new Set([...readdirSync(ROOT).filter((n) => n !== '.git' && n !== 'node_modules'), '.github', '.ci']),
];

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  return ['README.md', 'charts/README.md', 'crds/README.md', 'bench/RESULTS.md', ...docs].filter((f) =>
    existsSync(join(ROOT, f)),
  );
}

/** Every relative link target and every repository path in a code span of one Markdown file. */
function namedPaths(file: string): { path: string; from: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: { path: string; from: string }[] = [];
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    // Web links, anchors, and regular expressions in tables that look like link syntax.
    if (/^(https?:|mailto:|#)/.test(target!) || /[[\]*?^$|\\]/.test(target!)) continue;
    found.push({ path: join(dirname(file), target!.split('#')[0]!), from: `link ${target}` });
  }
  for (const [, span] of text.matchAll(/`([^`\s]+)`/g)) {
    const top = span!.split('/')[0]!;
    if (!span!.includes('/') || !TOP_LEVEL.includes(top)) continue;
    // Globs, placeholders and URLs-with-paths are not single paths.
    if (/[*<>{}$]|:\/\//.test(span!)) continue;
    found.push({ path: span!.replace(/[.,:;]$/, ''), from: `\`${span}\`` });
  }
  return found;
}

describe('docs name only paths that exist', () => {
  it.each(markdownFiles())('%s', (file) => {
    const missing = namedPaths(file)
      .filter(({ path }) => !existsSync(join(ROOT, path)))
      .map(({ path, from }) => `${relative(ROOT, join(ROOT, path))} (${from})`);
    expect(missing).toEqual([]);
  });
});
