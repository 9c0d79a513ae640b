import { KINDS } from '../../resources/kinds.ts';
import type { Resources } from '../../resources/snapshot.ts';

/** One kind the operator lists and watches, with the REST path its informer uses. */
export interface WatchedKind {
  kind: string;
  apiVersion: string;
  plural: string;
  /** Where its objects go in the translator's snapshot; infra kinds are watched for status only. */
  bucket?: keyof Resources;
  /** Only objects with these labels (the operator's own infra objects). */
  labelSelector?: string;
  /** Only objects these fields select (Secrets of the types a reference can mean). */
  fieldSelector?: string;
  /**
   * Listed and watched as metadata only; the content of an object is read only while a snapshot
   * references it (Secrets, ConfigMaps: a cluster holds thousands the gateway never uses).
   */
  contentWhenReferenced?: boolean;
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'sluice';
const OURS = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
const NOT_OURS = `${MANAGED_BY_LABEL}!=${MANAGED_BY}`;
/** Kinds the translator reads only where a spec names them (see `referencedObjects`). */
const REFERENCED_KINDS: ReadonlySet<string> = new Set(['Secret', 'ConfigMap']);

/**
 * Secret types no Sluice reference means, never listed or kept: Helm stores every release of every
 * chart as a Secret (often hundreds of KiB each, in every namespace it deployed to), and legacy
 * service-account tokens exist per account. A reference to one reads as a missing Secret.
 */
export const UNREAD_SECRET_TYPES = ['helm.sh/release.v1', 'kubernetes.io/service-account-token'] as const;

/**
 * Every kind the translator reads (the KINDS registry, at its preferred API version; Secrets and
 * ConfigMaps other than the operator's own by metadata), plus the operator's own proxy Deployments
 * (their availability makes Programmed) and its proxies' ConfigMaps and Secrets (whose content it
 * compares with what it rendered, to repair a hand edit).
 */
export const WATCHED_KINDS: readonly WatchedKind[] = [
  ...Object.entries(KINDS).map(([kind, info]) => ({
    kind,
    apiVersion: info.apiVersions[0]!,
    plural: info.plural,
    bucket: info.bucket,
    ...(REFERENCED_KINDS.has(kind) ? { labelSelector: NOT_OURS, contentWhenReferenced: true } : {}),
    ...(kind === 'Secret' ? { fieldSelector: UNREAD_SECRET_TYPES.map((t) => `type!=${t}`).join(',') } : {}),
  })),
  ...['Deployment', 'ConfigMap', 'Secret'].map((kind) => ({
    kind,
    apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
    plural: `${kind.toLowerCase()}s`,
    labelSelector: OURS,
  })),
];

/** The cluster-wide list/watch path of a kind: `/api/v1/services`, `/apis/apps/v1/deployments`. */
export function collectionPath(k: Pick<WatchedKind, 'apiVersion' | 'plural'>, namespace?: string): string {
  const base = k.apiVersion.includes('/') ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${k.plural}` : `${base}/${k.plural}`;
}
