import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS } from '../resources/kinds.ts';
import { FIELD_DOCS } from './field-docs.ts';
import type { OpenApiSchema } from './openapi-schema.ts';
import { renderApiDocs } from './render-api-docs.ts';
import { CRD_DIRS, renderCrdFiles } from './render-crd-files.ts';
import { schemaFields } from './schema-fields.ts';
import { CRD_SOURCES, sluiceCrds } from './sluice-crds.ts';

describe('generated CRDs', () => {
  it.each(CRD_DIRS)(
    '%s holds exactly what `npm run generate:crds` writes (regenerate after a schema change)',
    (dir) => {
      for (const [file, text] of renderCrdFiles())
        expect(readFileSync(join(import.meta.dirname, '..', '..', '..', dir, file), 'utf8'), file).toBe(text);
    },
  );
});

describe('field docs', () => {
  it('document every field of every CRD, and nothing that is not a field', () => {
    for (const crd of sluiceCrds() as {
      spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] };
    }[]) {
      const kind = crd.spec.names.kind;
      const spec = (crd.spec.versions[0]!.schema.openAPIV3Schema.properties as Record<string, OpenApiSchema>)
        .spec!;
      const paths = schemaFields(spec, 'spec').map((f) => f.path);
      expect(
        paths.filter((p) => !FIELD_DOCS[kind]?.[p]),
        `${kind}: fields without docs`,
      ).toEqual([]);
      expect(
        Object.keys(FIELD_DOCS[kind] ?? {}).filter((p) => !paths.includes(p)),
        `${kind}: docs without fields`,
      ).toEqual([]);
    }
  });
});

describe('API reference pages', () => {
  it('docs/api/ holds exactly what `npm run generate:docs` writes', () => {
    for (const [file, text] of renderApiDocs())
      expect(
        readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'api', file), 'utf8'),
        file,
      ).toBe(text);
  });
});

describe('resource names', () => {
  it('the kinds registry names each Sluice kind by the plural its CRD declares', () => {
    for (const src of CRD_SOURCES) expect(KINDS[src.kind]?.plural, src.kind).toBe(src.plural);
  });
});
