/**
 * Writes docs/api/<kind>.md for every Sluice CRD (`npm run generate:docs`); a test fails when the
 * checked-in pages differ from what this would write.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiDocs } from '../operator/src/crds/render-api-docs.ts';

const dir = join(import.meta.dirname, '..', 'docs', 'api');
mkdirSync(dir, { recursive: true });
for (const [file, text] of renderApiDocs()) writeFileSync(join(dir, file), text);
process.stdout.write('wrote docs/api/\n');
