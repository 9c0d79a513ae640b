import type { TSchema } from '@sinclair/typebox';

/**
 * Fields Kubernetes puts in any object's metadata. Files are checked against this list (not the
 * narrower ObjectMeta schema the translator reads), so `kubectl get -o yaml` output stays valid.
 */
const OBJECT_META_FIELDS = new Set([
  'name',
  'namespace',
  'labels',
  'annotations',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generateName',
  'finalizers',
  'ownerReferences',
  'managedFields',
  'selfLink',
]);

/**
 * The paths of fields in `obj` that its kind's schema does not know, as `kubectl apply
 * --validate=strict` reports them: a misspelt `backendRef:` is an error, not a field silently
 * ignored. `status` is skipped (controllers own it; files copied from a cluster carry it).
 */
export function unknownFields(schema: TSchema, obj: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'status' || key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata') {
      if (value && typeof value === 'object')
        for (const m of Object.keys(value)) if (!OBJECT_META_FIELDS.has(m)) out.push(`/metadata/${m}`);
      continue;
    }
    const property = (schema.properties as Record<string, TSchema> | undefined)?.[key];
    if (property) walk(property, value, `/${key}`, out);
    else out.push(`/${key}`);
  }
  return out;
}

function walk(schema: TSchema, value: unknown, path: string, out: string[]): void {
  if (value === null || typeof value !== 'object') return;
  if (schema.anyOf) {
    // A union: the alternative that explains the value best (fewest unknown fields) is the one meant.
    let best: string[] | undefined;
    for (const alternative of schema.anyOf as TSchema[]) {
      const found: string[] = [];
      walk(alternative, value, path, found);
      if (!best || found.length < best.length) best = found;
      if (best.length === 0) break;
    }
    out.push(...(best ?? []));
    return;
  }
  if (Array.isArray(value)) {
    if (schema.items)
      for (const [i, v] of value.entries()) walk(schema.items as TSchema, v, `${path}/${i}`, out);
    return;
  }
  const members = schema.allOf ? (schema.allOf as TSchema[]) : [schema];
  const properties = members.map((m) => m.properties as Record<string, TSchema> | undefined);
  if (properties.every((p) => p === undefined)) {
    // A map (T.Record) or an open value (T.Unknown): check map values, accept any key.
    const valueSchema = mapValueSchema(schema);
    if (valueSchema)
      for (const [k, v] of Object.entries(value)) walk(valueSchema, v, `${path}/${escapePointer(k)}`, out);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const property = properties.find((p) => p && key in p)?.[key];
    if (property) walk(property, v, `${path}/${escapePointer(key)}`, out);
    else if (!members.some(mapValueSchema)) out.push(`${path}/${escapePointer(key)}`);
  }
}

function mapValueSchema(schema: TSchema): TSchema | undefined {
  const pattern = schema.patternProperties as Record<string, TSchema> | undefined;
  if (pattern) return Object.values(pattern)[0];
  return typeof schema.additionalProperties === 'object'
    ? (schema.additionalProperties as TSchema)
    : undefined;
}

/** JSON Pointer escaping (RFC 6901), so a key with `/` in it still names one field. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}
