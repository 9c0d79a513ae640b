import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { text as readStream } from 'node:stream/consumers';
import { parseAllDocuments, type YAMLError } from 'yaml';
import { type CheckedObject, checkObject } from '../../resources/check-object.ts';
import { emptyResources, type Resources } from '../../resources/snapshot.ts';

export interface ProviderError {
  file: string;
  /** `Kind namespace/name` when the object could be identified. */
  object?: string;
  /** Path of the offending field inside the object, e.g. `/spec/rules/0/matches/0/path/type`. */
  field?: string;
  message: string;
}

export function formatProviderError(e: ProviderError): string {
  return [e.file, e.object, e.field, e.message].filter((p) => p !== undefined && p !== '').join(': ');
}

export interface LoadResult {
  resources: Resources;
  errors: ProviderError[];
  /** Objects of kinds Sluice does not read (a Deployment kept beside the routes): left out, with a notice. */
  skipped: ProviderError[];
  /** Unknown fields, when loaded with `unknownFields: 'warn'` (otherwise they are errors). */
  warnings: ProviderError[];
  objectCount: number;
}

export interface LoadOptions {
  /** `error` (the default, as `kubectl apply --validate=strict`) or `warn` (`sluice validate --warn-only`). */
  unknownFields?: 'error' | 'warn';
}

/** How `-f` names its input: a directory, one file, or `-` for standard input. */
export const STDIN_SOURCE = '-';

/**
 * The file provider: reads a directory (every `.yaml`, `.yml` and `.json` file under it), one file,
 * or standard input (`-`); multi-document YAML allowed. Each object is validated against its kind's
 * schema, strictly (unknown fields are errors), and the result is a sorted snapshot. Any error is
 * reported with file, object and field; callers keep their last good snapshot on errors.
 */
export async function loadSource(source: string, options: LoadOptions = {}): Promise<LoadResult> {
  if (source === STDIN_SOURCE)
    return loadTexts([{ file: '<stdin>', text: await readStream(process.stdin) }], options);
  const info = await stat(source).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      `cannot read ${source}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`,
    );
  });
  if (!info.isDirectory()) return loadFiles([source], process.cwd(), options);
  return loadFiles(await listFiles(source), source, options);
}

/**
 * Loads the given files into one snapshot (the golden tests load single files this way). Errors name
 * files relative to `baseDir`.
 */
export async function loadFiles(
  paths: readonly string[],
  baseDir = process.cwd(),
  options: LoadOptions = {},
): Promise<LoadResult> {
  const texts: { file: string; text: string }[] = [];
  for (const path of paths)
    texts.push({ file: relative(baseDir, path) || path, text: await readFile(path, 'utf8') });
  return loadTexts(texts, options);
}

function loadTexts(texts: readonly { file: string; text: string }[], options: LoadOptions): LoadResult {
  const resources = emptyResources();
  const errors: ProviderError[] = [];
  const skipped: ProviderError[] = [];
  const warnings: ProviderError[] = [];
  const seen = new Map<string, string>();
  let objectCount = 0;
  for (const { file, text } of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        for (const e of doc.errors) errors.push({ file, message: yamlProblem(e, text) });
        continue;
      }
      const obj: unknown = doc.toJS();
      if (obj === null || obj === undefined) continue;
      objectCount++;
      const checked = checkObject(obj, { unknownFields: options.unknownFields ?? 'error' });
      if ('skipped' in checked) skipped.push({ file, ...checked.skipped });
      else if ('problem' in checked) errors.push({ file, ...checked.problem });
      else {
        for (const w of checked.ok.warnings) warnings.push({ file, ...w });
        const problem = addObject(obj, checked.ok, resources, seen, file);
        if (problem) errors.push(problem);
      }
    }
  }
  return { resources, errors, skipped, warnings, objectCount };
}

/** `invalid YAML at line 10, column 3: <reason>` and the line itself, so the mistake can be seen. */
function yamlProblem(e: YAMLError, text: string): string {
  const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const at = e.linePos?.[0];
  if (!at) return `invalid YAML: ${reason}`;
  const line = text.split(/\r?\n/)[at.line - 1] ?? '';
  return `invalid YAML at line ${at.line}, column ${at.col}: ${reason}\n    ${line}\n    ${' '.repeat(Math.max(0, at.col - 1))}^`;
}

function addObject(
  obj: unknown,
  checked: CheckedObject,
  resources: Resources,
  seen: Map<string, string>,
  file: string,
): ProviderError | undefined {
  const { info, kind, namespace, name } = checked;
  const id = `${kind}/${namespace ?? ''}/${name}`;
  const earlier = seen.get(id);
  if (earlier)
    return {
      file,
      object: `${kind} ${namespace ? `${namespace}/` : ''}${name}`,
      message: `duplicate object, already defined in ${earlier}`,
    };
  seen.set(id, file);
  (resources[info.bucket] as unknown[]).push(obj);
  return undefined;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && /\.(ya?ml|json)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}
