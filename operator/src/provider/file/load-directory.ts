import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { parseAllDocuments } from 'yaml';
import { KINDS } from '../../resources/kinds.ts';
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

const checks = new Map<TSchema, TypeCheck<TSchema>>();
function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let check = checks.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    checks.set(schema, check);
  }
  return check;
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
  if (typeof obj !== 'object' || Array.isArray(obj) || obj === null)
    return { file, message: 'a document must be a Kubernetes object (a mapping with apiVersion and kind)' };
  const o = obj as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown; namespace?: unknown };
  };
  const kindName = typeof o.kind === 'string' ? o.kind : undefined;
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '<unnamed>';
  const info = kindName ? KINDS[kindName] : undefined;
  if (!kindName || !info)
    return {
      file,
      object: `${kindName ?? '<no kind>'} ${name}`,
      field: '/kind',
      message: `unknown kind; expected one of ${Object.keys(KINDS).join(', ')}`,
    };
  if (info.namespaced && o.metadata && o.metadata.namespace === undefined) o.metadata.namespace = 'default';
  const namespace = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : undefined;
  const object = `${kindName} ${namespace ? `${namespace}/` : ''}${name}`;
  if (typeof o.apiVersion !== 'string' || !info.apiVersions.includes(o.apiVersion))
    return { file, object, field: '/apiVersion', message: `expected one of ${info.apiVersions.join(', ')}` };
  const check = checkerFor(info.schema);
  if (!check.Check(obj)) {
    const first = check.Errors(obj).First();
    return {
      file,
      object,
      field: first?.path || '/',
      message: first?.message ?? 'does not match the schema',
    };
  }
  const extra = info.problems?.(obj as never)[0];
  if (extra) return { file, object, field: extra.field, message: extra.message };
  const id = `${kindName}/${namespace ?? ''}/${name}`;
  const earlier = seen.get(id);
  if (earlier) return { file, object, message: `duplicate object, already defined in ${earlier}` };
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
