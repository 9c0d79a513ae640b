import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { checkObject } from '../../resources/check-object.ts';
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
  objectCount: number;
}

/**
 * The file provider: reads every `.yaml`, `.yml` and `.json` file under a directory (multi-document
 * YAML allowed), validates each object against its kind's schema and returns a sorted snapshot. Any
 * error is reported with file, object and field; callers keep their last good snapshot on errors.
 */
export async function loadDirectory(dir: string): Promise<LoadResult> {
  return loadFiles(await listFiles(dir), dir);
}

/**
 * Loads the given files into one snapshot (the golden tests load single files this way). Errors name
 * files relative to `baseDir`.
 */
export async function loadFiles(paths: readonly string[], baseDir = process.cwd()): Promise<LoadResult> {
  const resources = emptyResources();
  const errors: ProviderError[] = [];
  const seen = new Map<string, string>();
  let objectCount = 0;
  for (const path of paths) {
    const file = relative(baseDir, path) || path;
    const text = await readFile(path, 'utf8');
    for (const doc of parseAllDocuments(text, { prettyErrors: true })) {
      if (doc.errors.length > 0) {
        for (const e of doc.errors)
          errors.push({ file, message: `invalid YAML: ${e.message.split('\n')[0]}` });
        continue;
      }
      const obj: unknown = doc.toJS();
      if (obj === null || obj === undefined) continue;
      objectCount++;
      const problem = addObject(obj, resources, seen, file);
      if (problem) errors.push(problem);
    }
  }
  return { resources, errors, objectCount };
}

function addObject(
  obj: unknown,
  resources: Resources,
  seen: Map<string, string>,
  file: string,
): ProviderError | undefined {
  const checked = checkObject(obj);
  if ('problem' in checked) return { file, ...checked.problem };
  const { info, kind, namespace, name } = checked.ok;
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
