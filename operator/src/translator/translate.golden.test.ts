import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateProxyConfig } from '../../../proxy/src/config/validate.ts';
import { loadFiles } from '../provider/file/load-directory.ts';
import { referencedObjects } from '../resources/references.ts';
import type { Resources } from '../resources/snapshot.ts';
import { translate } from './translate.ts';

/**
 * Golden tests: testdata/<case>.in.yaml → <case>.out.yaml. Regenerate with `npm run test:update-golden`
 * and review the diff like code.
 */
const dir = join(import.meta.dirname, 'testdata');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.in.yaml'))
  .map((f) => f.slice(0, -'.in.yaml'.length))
  .sort();
const update = process.env.UPDATE_GOLDEN === '1';
// A fixed clock: certificate validity in the golden cases is judged at this instant, not today.
const options = { controllerName: 'sluice.dev/gateway-controller', now: Date.parse('2027-06-01T00:00:00Z') };

async function load(name: string): Promise<Resources> {
  const { resources, errors } = await loadFiles([join(dir, `${name}.in.yaml`)]);
  expect(errors).toEqual([]);
  return resources;
}

describe('translator golden cases', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('%s', async (name) => {
    const result = translate(await load(name), options);
    const actual = stringify(result, { lineWidth: 0, aliasDuplicateObjects: false });
    const outPath = join(dir, `${name}.out.yaml`);
    if (update) writeFileSync(outPath, actual);
    expect(actual).toBe(readFileSync(outPath, 'utf8'));
    // Every config the translator emits must satisfy the proxy's own contract.
    for (const config of result.configs) expect(() => validateProxyConfig(config)).not.toThrow();
  });

  it.each(cases)('%s is independent of input order', async (name) => {
    const resources = await load(name);
    const reversed = Object.fromEntries(
      Object.entries(resources).map(([k, v]) => [k, [...(v as unknown[])].reverse()]),
    ) as unknown as Resources;
    expect(translate(reversed, options)).toEqual(translate(resources, options));
  });

  // The Kubernetes provider reads only the Secrets and ConfigMaps a snapshot references.
  it.each(cases)(
    '%s translates the same with only the Secrets and ConfigMaps it references',
    async (name) => {
      const resources = await load(name);
      const refs = referencedObjects(resources);
      const key = (m: { namespace?: string; name: string }) => `${m.namespace ?? 'default'}/${m.name}`;
      const referencedOnly: Resources = {
        ...resources,
        secrets: resources.secrets.filter((s) => refs.secrets.has(key(s.metadata))),
        configMaps: resources.configMaps.filter((c) => refs.configMaps.has(key(c.metadata))),
      };
      expect(translate(referencedOnly, options)).toEqual(translate(resources, options));
    },
  );
});
