/**
 * Writes crds/<group>_<plural>.yaml, and the same files into the Helm chart's crds/, from the TypeBox
 * schemas (`npm run generate:crds`); a test fails when the checked-in files differ from these.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIRS, renderCrdFiles } from '../operator/src/crds/render-crd-files.ts';

for (const dir of CRD_DIRS)
  for (const [file, text] of renderCrdFiles())
    writeFileSync(join(import.meta.dirname, '..', dir, file), text);
process.stdout.write(`wrote ${renderCrdFiles().size} CRDs to ${CRD_DIRS.join(' and ')}\n`);
