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
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'sluice';

/**
 * Secret types no Sluice reference means, never listed or kept: Helm stores every release of every
 * chart as a Secret (often hundreds of KiB each, in every namespace it deployed to), and legacy
 * service-account tokens exist per account. A reference to one reads as a missing Secret.
 */
export const UNREAD_SECRET_TYPES = ['helm.sh/release.v1', 'kubernetes.io/service-account-token'] as const;

/**
 * Every kind the translator reads (the KINDS registry, at its preferred API version), plus the
 * operator's own proxy Deployments, whose availability makes Programmed.
 */
export const WATCHED_KINDS: readonly WatchedKind[] = [
  ...Object.entries(KINDS).map(([kind, info]) => ({
    kind,
    apiVersion: info.apiVersions[0]!,
    plural: info.plural,
    bucket: info.bucket,
    ...(kind === 'Secret' ? { fieldSelector: UNREAD_SECRET_TYPES.map((t) => `type!=${t}`).join(',') } : {}),
  })),
  {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    plural: 'deployments',
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
  },
];

/** The cluster-wide list/watch path of a kind: `/api/v1/services`, `/apis/apps/v1/deployments`. */
export function collectionPath(k: Pick<WatchedKind, 'apiVersion' | 'plural'>, namespace?: string): string {
  const base = k.apiVersion.includes('/') ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
  return namespace ? `${base}/namespaces/${namespace}/${k.plural}` : `${base}/${k.plural}`;
}
