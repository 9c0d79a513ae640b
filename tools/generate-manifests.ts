/**
 * Writes deploy/operator/10-operator.yaml from the Helm chart (`npm run generate:manifests`), so the
 * plain manifests and the chart cannot drift: one source, rendered with the values below. A test
 * renders again and fails when the checked-in file differs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPlainManifests } from './manifests/render-plain-manifests.ts';

writeFileSync(
  join(import.meta.dirname, '..', 'deploy', 'operator', '10-operator.yaml'),
  renderPlainManifests(),
);
process.stdout.write('wrote deploy/operator/10-operator.yaml\n');
