import { secretValues } from '../resources/core.ts';
import type { Resources } from '../resources/snapshot.ts';

/** The key CA bundles are read from, in ConfigMaps and Secrets alike. */
export const CA_KEY = 'ca.crt';

/**
 * The PEM CA bundle a reference names (a ConfigMap or Secret of the core group in `namespace`, key
 * ca.crt), or undefined when it does not exist or holds no certificate. BackendTLSPolicy and a
 * Gateway's client-certificate validation both trust CAs this way.
 */
export function caBundle(
  resources: Resources,
  namespace: string,
  ref: { group: string; kind: string; name: string },
): string | undefined {
  if (ref.group !== '') return undefined;
  const same = (m: { namespace?: string; name: string }) =>
    (m.namespace ?? 'default') === namespace && m.name === ref.name;
  let pem: string | undefined;
  if (ref.kind === 'ConfigMap') pem = resources.configMaps.find((c) => same(c.metadata))?.data?.[CA_KEY];
  else if (ref.kind === 'Secret') {
    const secret = resources.secrets.find((s) => same(s.metadata));
    pem = secret ? secretValues(secret)[CA_KEY] : undefined;
  }
  return pem?.includes('BEGIN CERTIFICATE') ? pem : undefined;
}
