import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRD_DIRS, renderCrdFiles } from './render-crd-files.ts';

describe('generated CRDs', () => {
  it.each(CRD_DIRS)(
    '%s holds exactly what `npm run generate:crds` writes (regenerate after a schema change)',
    (dir) => {
      for (const [file, text] of renderCrdFiles())
        expect(readFileSync(join(import.meta.dirname, '..', '..', '..', dir, file), 'utf8'), file).toBe(text);
    },
  );
});
