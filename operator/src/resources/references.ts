import type { Resources } from './snapshot.ts';

/** Keys (`namespace/name`) of the Secrets and ConfigMaps a translation may read. */
export interface References {
  secrets: Set<string>;
  configMaps: Set<string>;
}

/** Kinds that are what references point at, not where they are written. */
const TARGET_BUCKETS: ReadonlySet<keyof Resources> = new Set([
  'secrets',
  'configMaps',
  'services',
  'endpointSlices',
  'namespaces',
]);

/**
 * Every Secret and ConfigMap a spec may name, so that a cluster's other Secrets and ConfigMaps need
 * never be read. Deliberately broad: any `{ name, namespace?, kind?, group? }` object anywhere in a
 * spec counts when its kind, if given, is Secret or ConfigMap of the core group — a listener's
 * certificateRefs, a BackendTLSPolicy's CA refs, an AIBackend's credentialsRef, a SecurityPolicy's
 * Secret refs, and whatever reference a field added later writes the same way. A header match that
 * happens to share a Secret's name costs one needless read; a reference missed here would read as a
 * missing Secret, and only in Kubernetes. The golden tests check that every case translates the same
 * with Secrets and ConfigMaps cut down to these.
 */
export function referencedObjects(resources: Resources): References {
  const refs: References = { secrets: new Set(), configMaps: new Set() };
  for (const [bucket, objects] of Object.entries(resources) as [
    keyof Resources,
    { metadata: { namespace?: string }; spec?: unknown }[],
  ][]) {
    if (TARGET_BUCKETS.has(bucket)) continue;
    for (const o of objects) collect(o.spec, o.metadata.namespace ?? 'default', refs);
  }
  return refs;
}

function collect(node: unknown, namespace: string, refs: References): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, namespace, refs);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const ref = node as Record<string, unknown>;
  if (typeof ref.name === 'string' && (ref.group === undefined || ref.group === '')) {
    const key = `${typeof ref.namespace === 'string' ? ref.namespace : namespace}/${ref.name}`;
    if (ref.kind === undefined || ref.kind === 'Secret') refs.secrets.add(key);
    if (ref.kind === undefined || ref.kind === 'ConfigMap') refs.configMaps.add(key);
  }
  for (const value of Object.values(ref)) collect(value, namespace, refs);
}
