import type { OpenApiSchema } from './openapi-schema.ts';

export interface SchemaField {
  /** e.g. `spec.targets[].endpoint.url` (`[]`: an item of a list). */
  path: string;
  schema: OpenApiSchema;
  required: boolean;
}

/** Every named field under a CRD schema node, depth first, in declaration order. */
export function schemaFields(schema: OpenApiSchema, path: string): SchemaField[] {
  const out: SchemaField[] = [];
  const visit = (node: OpenApiSchema, at: string) => {
    const props = node.properties as Record<string, OpenApiSchema> | undefined;
    const required = new Set((node.required as string[] | undefined) ?? []);
    for (const [name, child] of Object.entries(props ?? {})) {
      const p = `${at}.${name}`;
      out.push({ path: p, schema: child, required: required.has(name) });
      visit(child, p);
    }
    if (node.items) visit(node.items as OpenApiSchema, `${at}[]`);
  };
  visit(schema, path);
  return out;
}
