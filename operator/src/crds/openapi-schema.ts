import type { TSchema } from '@sinclair/typebox';

/** An OpenAPI v3 schema node as a CRD accepts it (structural: every node typed, no anyOf of types). */
export type OpenApiSchema = { [keyword: string]: unknown };

/** Keywords passed through unchanged from the TypeBox (JSON Schema) definition. */
const KEPT = [
  'description',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'default',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
] as const;

/**
 * Turns a TypeBox schema into a structural OpenAPI schema for a CRD, so the API server validates
 * exactly what the code validates. A union of literals becomes an enum; a union of objects (one of
 * several shapes) becomes one object with every property plus CEL rules that require exactly one
 * shape's required fields and forbid fields from the other shapes.
 */
export function toOpenApi(schema: TSchema): OpenApiSchema {
  const s = schema as Record<string, unknown>;
  const out: OpenApiSchema = {};
  for (const k of KEPT) if (s[k] !== undefined) out[k] = s[k];
  if (typeof s.exclusiveMinimum === 'number') {
    out.minimum = s.exclusiveMinimum;
    out.exclusiveMinimum = true;
  }
  if (s.const !== undefined) return { ...out, type: typeof s.const, enum: [s.const] };
  if (Array.isArray(s.anyOf)) return { ...out, ...unionToOpenApi(s.anyOf as TSchema[]) };
  switch (s.type) {
    case 'object': {
      const pattern = s.patternProperties as Record<string, TSchema> | undefined;
      if (pattern)
        return { ...out, type: 'object', additionalProperties: toOpenApi(Object.values(pattern)[0]!) };
      const props = (s.properties ?? {}) as Record<string, TSchema>;
      const required = (s.required as string[] | undefined) ?? [];
      return {
        ...out,
        type: 'object',
        ...(Object.keys(props).length > 0
          ? { properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toOpenApi(v)])) }
          : { 'x-kubernetes-preserve-unknown-fields': true }),
        ...(required.length > 0 ? { required } : {}),
      };
    }
    case 'array':
      return { ...out, type: 'array', items: toOpenApi(s.items as TSchema) };
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return { ...out, type: s.type };
    case undefined:
      // T.Unknown(): any JSON value, kept as given (e.g. JWKS keys).
      return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
    default:
      throw new Error(`no CRD schema for JSON Schema type ${String(s.type)}`);
  }
}

function unionToOpenApi(variants: TSchema[]): OpenApiSchema {
  const vs = variants as Record<string, unknown>[];
  if (vs.every((v) => v.const !== undefined)) {
    const types = new Set(vs.map((v) => typeof v.const));
    if (types.size !== 1) throw new Error('a union of literals must have one type');
    return { type: [...types][0], enum: vs.map((v) => v.const) };
  }
  const types = vs.map((v) => v.type).sort();
  if (types.length === 2 && types[0] === 'integer' && types[1] === 'string') {
    // A Kubernetes quantity-like field (`1024` or `1Ki`): int-or-string, the pattern checking strings.
    const str = vs.find((v) => v.type === 'string')!;
    return {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      ...(str.pattern !== undefined ? { pattern: str.pattern } : {}),
    };
  }
  if (!vs.every((v) => v.type === 'object'))
    throw new Error('only unions of literals, of objects or of an integer and a string map to a CRD');
  const shapes = vs.map((v) => ({
    props: (v.properties ?? {}) as Record<string, TSchema>,
    required: (v.required as string[] | undefined) ?? [],
  }));
  const properties: Record<string, OpenApiSchema> = {};
  for (const shape of shapes)
    for (const [k, p] of Object.entries(shape.props)) properties[k] ??= toOpenApi(p);
  const markers = shapes.map((shape) => shape.required[0]);
  if (markers.some((m) => m === undefined)) throw new Error('every object in a union needs a required field');
  const rules = [
    {
      rule: `[${markers.map((m) => `has(self.${m})`).join(', ')}].filter(x, x).size() == 1`,
      message: `set exactly one of ${markers.join(', ')}`,
    },
  ];
  shapes.forEach((shape, i) => {
    for (const k of Object.keys(shape.props)) {
      if (k === markers[i] || shapes.some((other, j) => j !== i && k in other.props)) continue;
      rules.push({
        rule: `!has(self.${k}) || has(self.${markers[i]})`,
        message: `${k} is only valid with ${markers[i]}`,
      });
    }
  });
  // A variant's own rules apply to the merged object (written to hold when its marker is absent).
  for (const v of vs) rules.push(...((v['x-kubernetes-validations'] as typeof rules | undefined) ?? []));
  return { type: 'object', properties, 'x-kubernetes-validations': rules };
}
