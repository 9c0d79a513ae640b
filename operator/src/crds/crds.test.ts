import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRD_DIRS, renderCrdFiles } from './render-crd-files.ts';

describe('generated CRDs', () => {
  it('crds/ holds exactly what `npm run generate:crds` writes (regenerate after changing a schema)', () => {
    for (const [file, text] of renderCrdFiles())
      expect(readFileSync(join(import.meta.dirname, '..', '..', '..', 'crds', file), 'utf8'), file).toBe(
        text,
      );
  });
});
