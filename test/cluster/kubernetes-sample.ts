import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../support/ports.ts';
import type { ControlPlane } from './control-plane.ts';
import { REPO_ROOT } from './install.ts';
import { type SluiceProcess, startSluice } from './sluice-process.ts';

export const SAMPLE_NAMESPACE = 'sluice-demo';
/** The objects the operator renders for the sample's Gateway `ai-gateway` are named after this. */
export const SAMPLE_PROXY = 'sluice-ai-gateway';

/** The provider key the tests create as the user's Secret `openai` (the README's second step). */
export const SAMPLE_PROVIDER_KEY = 'sk-user-provider-key';

/**
 * Applies samples/kubernetes/ as the README orders it (namespace, the user's key Secret, the rest),
 * pointed at a fake provider and a free listener port.
 */
export function applyKubernetesSample(cp: ControlPlane, listenerPort: number, providerUrl: string): void {
  cp.kubectl(['apply', '-f', join(REPO_ROOT, 'samples', 'kubernetes', '00-namespace.yaml')]);
  cp.kubectl([
    'create',
    'secret',
    'generic',
    'openai',
    '-n',
    SAMPLE_NAMESPACE,
    `--from-literal=api-key=${SAMPLE_PROVIDER_KEY}`,
  ]);
  for (const file of ['10-gateway.yaml', '20-ai.yaml'])
    cp.kubectl(
      ['apply', '-f', '-'],
      readFileSync(join(REPO_ROOT, 'samples', 'kubernetes', file), 'utf8')
        .replace('port: 8080', `port: ${listenerPort}`)
        .replace('https://api.openai.com/v1', `${providerUrl}/v1`),
    );
}

/**
 * Runs the operator as its pod would, with the token of the ServiceAccount `sluice-system/sluice-operator`
 * the chart or deploy/operator/ created (so RBAC that falls short fails the test), one proxy replica.
 */
export async function startInstalledOperator(cp: ControlPlane): Promise<SluiceProcess> {
  return startSluice(
    [
      'operator',
      '--kubeconfig',
      cp.serviceAccountKubeconfig('sluice-system', 'sluice-operator'),
      '--proxy-replicas',
      '1',
    ],
    await freePort(),
  );
}

/** Runs `sluice proxy` as the sample Gateway's pod would: with its ServiceAccount's token. */
export async function startSampleProxy(cp: ControlPlane): Promise<SluiceProcess> {
  return startSluice(
    [
      'proxy',
      '--kubeconfig',
      cp.serviceAccountKubeconfig(SAMPLE_NAMESPACE, SAMPLE_PROXY),
      '--namespace',
      SAMPLE_NAMESPACE,
      '--config-map',
      `${SAMPLE_PROXY}-config`,
      '--secret',
      `${SAMPLE_PROXY}-credentials`,
    ],
    await freePort(),
  );
}

/**
 * Version `n` of an HTTPRoute `probe` on the sample Gateway: GET /probe redirects to v<n>.example, so
 * a test can tell from one request which version the proxy serves.
 */
export function probeRoute(n: number): string {
  return JSON.stringify({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'probe', namespace: SAMPLE_NAMESPACE },
    spec: {
      parentRefs: [{ name: 'ai-gateway' }],
      rules: [
        {
          matches: [{ path: { type: 'Exact', value: '/probe' } }],
          filters: [
            { type: 'RequestRedirect', requestRedirect: { hostname: `v${n}.example`, statusCode: 302 } },
          ],
        },
      ],
    },
  });
}

/** Whether the proxy on `listenerPort` serves version `n` of the probe route. */
export async function servesProbe(listenerPort: number, n: number): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${listenerPort}/probe`, { redirect: 'manual' });
  await res.arrayBuffer();
  return res.headers.get('location')?.includes(`v${n}.example`) ?? false;
}
