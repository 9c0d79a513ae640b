import { join } from 'node:path';
import type { ControlPlane } from './control-plane.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * What a user installs before Sluice runs: the Gateway API CRDs (the standard channel unless a folder
 * of others is given), Sluice's CRDs, the operator's RBAC.
 */
export function installSluice(cp: ControlPlane, gatewayApiCrds = cp.gatewayApiCrds): void {
  cp.kubectl(['apply', '--server-side', '-f', gatewayApiCrds]);
  cp.kubectl(['apply', '--server-side', '-f', join(ROOT, 'crds')]);
  cp.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
  cp.kubectl(['apply', '-f', join(ROOT, 'deploy', 'operator', '00-namespace.yaml')]);
  cp.kubectl(['apply', '-f', join(ROOT, 'deploy', 'operator', '10-operator.yaml')]);
}

export const REPO_ROOT = ROOT;
