import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { KINDS, type KindInfo } from './kinds.ts';

export interface ObjectProblem {
  /** `Kind namespace/name` when the object could be identified. */
  object?: string;
  /** Path of the offending field inside the object, e.g. `/spec/rules/0/matches/0/path/type`. */
  field?: string;
  message: string;
}

export interface CheckedObject {
  info: KindInfo;
  kind: string;
  namespace: string | undefined;
  name: string;
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
 * Validates one object against its kind's schema and cross-field rules; every provider (files or the
 * Kubernetes API) goes through here, so both accept exactly the same objects. Namespaced objects
 * without a namespace get `default`, as kubectl would give them.
 */
export function checkObject(obj: unknown): { ok: CheckedObject } | { problem: ObjectProblem } {
  if (typeof obj !== 'object' || Array.isArray(obj) || obj === null)
    return {
      problem: { message: 'a document must be a Kubernetes object (a mapping with apiVersion and kind)' },
    };
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
      problem: {
        object: `${kindName ?? '<no kind>'} ${name}`,
        field: '/kind',
        message: `unknown kind; expected one of ${Object.keys(KINDS).join(', ')}`,
      },
    };
  if (info.namespaced && o.metadata && o.metadata.namespace === undefined) o.metadata.namespace = 'default';
  const namespace = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : undefined;
  const object = `${kindName} ${namespace ? `${namespace}/` : ''}${name}`;
  if (typeof o.apiVersion !== 'string' || !info.apiVersions.includes(o.apiVersion))
    return {
      problem: { object, field: '/apiVersion', message: `expected one of ${info.apiVersions.join(', ')}` },
    };
  const check = checkerFor(info.schema);
  if (!check.Check(obj)) {
    const first = check.Errors(obj).First();
    return {
      problem: { object, field: first?.path || '/', message: first?.message ?? 'does not match the schema' },
    };
  }
  const extra = info.problems?.(obj as never)[0];
  if (extra) return { problem: { object, field: extra.field, message: extra.message } };
  return { ok: { info, kind: kindName, namespace, name } };
}
