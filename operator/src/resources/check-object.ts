import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler, type ValueError } from '@sinclair/typebox/compiler';
import { GATEWAY_GROUP } from './gateway-api.ts';
import { KINDS, type KindInfo } from './kinds.ts';
import { SLUICE_GROUP } from './sluice-api.ts';
import { unknownFields } from './unknown-fields.ts';

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
  /** Unknown fields, when the check was asked to warn about them rather than refuse. */
  warnings: ObjectProblem[];
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

/** API groups whose kinds Sluice reads in full: a kind of theirs it does not know is a typo. */
const OWN_GROUPS = new Set([GATEWAY_GROUP, SLUICE_GROUP]);

/** Gateway API kinds Sluice does not implement: skipped like foreign kinds, not taken for typos. */
export const NOT_IMPLEMENTED_KINDS = new Set(['ListenerSet']);

function groupOf(apiVersion: unknown): string {
  return typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export interface CheckOptions {
  /**
   * Fields the schema does not know, for the kinds of Sluice's and the Gateway API's groups: errors
   * (`kubectl apply --validate=strict`) or warnings on the checked object. The file provider sets it;
   * objects from the API server were already validated (and pruned) by it.
   */
  unknownFields?: 'error' | 'warn';
}

/**
 * Validates one object against its kind's schema and cross-field rules; every provider (files or the
 * Kubernetes API) goes through here, so both accept exactly the same objects. Namespaced objects
 * without a namespace get `default`, as kubectl would give them. An object of a kind Sluice does not
 * read (a Deployment beside the routes) is `skipped`, unless its group is one Sluice owns.
 */
export function checkObject(
  obj: unknown,
  options: CheckOptions = {},
): { ok: CheckedObject } | { problem: ObjectProblem } | { skipped: { object: string; message: string } } {
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
  if (kindName && !info && (!OWN_GROUPS.has(groupOf(o.apiVersion)) || NOT_IMPLEMENTED_KINDS.has(kindName)))
    return {
      skipped: {
        object: `${kindName} ${name}`,
        message: `skipped: Sluice does not read ${kindName} (${String(o.apiVersion)})`,
      },
    };
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
      problem: {
        object,
        field: first?.path || '/',
        message: first ? describe(first) : 'does not match the schema',
      },
    };
  }
  const warnings: ObjectProblem[] = [];
  if (options.unknownFields && OWN_GROUPS.has(groupOf(o.apiVersion))) {
    const unknown = unknownFields(info.schema, obj as Record<string, unknown>);
    if (unknown.length > 0) {
      const problem = {
        object,
        field: unknown[0],
        message: `unknown field${unknown.length > 1 ? `s (also ${unknown.slice(1).join(', ')})` : ''}; check its spelling against docs/api or \`kubectl explain\``,
      };
      if (options.unknownFields === 'error') return { problem };
      warnings.push(problem);
    }
  }
  const extra = info.problems?.(obj as never)[0];
  if (extra) return { problem: { object, field: extra.field, message: extra.message } };
  return { ok: { info, kind: kindName, namespace, name, warnings } };
}

/**
 * TypeBox says "Expected union value" for a bad enumeration; a user needs the allowed values and
 * what they wrote instead.
 */
function describe(error: ValueError): string {
  const alternatives = (error.schema.anyOf as TSchema[] | undefined) ?? [];
  const allowed = alternatives.filter((a) => a.const !== undefined).map((a) => String(a.const));
  if (allowed.length > 0 && allowed.length === alternatives.length)
    return `must be one of ${allowed.join(', ')} (got ${JSON.stringify(error.value)})`;
  return error.message;
}
