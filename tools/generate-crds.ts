/**
 * Writes crds/<group>_<plural>.yaml from the TypeBox schemas (`npm run generate:crds`); a test fails
 * when the checked-in files differ from what this would write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from '../operator/src/crds/render-crd-files.ts';

const dir = join(import.meta.dirname, '..', 'crds');
for (const [file, text] of renderCrdFiles()) writeFileSync(join(dir, file), text);
process.stdout.write(`wrote ${renderCrdFiles().size} CRDs to crds/\n`);
