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
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'sluice';

/**
 * Every kind the translator reads, plus the operator's own proxy Deployments (their availability makes
 * Programmed) and ConfigMaps (drift is repaired).
 */
export const WATCHED_KINDS: readonly WatchedKind[] = [
  {
    kind: 'GatewayClass',
    apiVersion: 'gateway.networking.k8s.io/v1',
    plural: 'gatewayclasses',
    bucket: 'gatewayClasses',
  },
  { kind: 'Gateway', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'gateways', bucket: 'gateways' },
  {
    kind: 'HTTPRoute',
    apiVersion: 'gateway.networking.k8s.io/v1',
    plural: 'httproutes',
    bucket: 'httpRoutes',
  },
  {
    kind: 'GRPCRoute',
    apiVersion: 'gateway.networking.k8s.io/v1',
    plural: 'grpcroutes',
    bucket: 'grpcRoutes',
  },
  { kind: 'TCPRoute', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'tcproutes', bucket: 'tcpRoutes' },
  { kind: 'TLSRoute', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'tlsroutes', bucket: 'tlsRoutes' },
  { kind: 'UDPRoute', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'udproutes', bucket: 'udpRoutes' },
  {
    kind: 'ReferenceGrant',
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    plural: 'referencegrants',
    bucket: 'referenceGrants',
  },
  { kind: 'Service', apiVersion: 'v1', plural: 'services', bucket: 'services' },
  {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    plural: 'endpointslices',
    bucket: 'endpointSlices',
  },
  { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', bucket: 'namespaces' },
  { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', bucket: 'secrets' },
  { kind: 'AIBackend', apiVersion: 'sluice.dev/v1alpha1', plural: 'aibackends', bucket: 'aiBackends' },
  { kind: 'PromptGuard', apiVersion: 'sluice.dev/v1alpha1', plural: 'promptguards', bucket: 'promptGuards' },
  {
    kind: 'TokenRateLimitPolicy',
    apiVersion: 'sluice.dev/v1alpha1',
    plural: 'tokenratelimitpolicies',
    bucket: 'tokenRateLimitPolicies',
  },
  // ConfigMaps: CA bundles of BackendTLSPolicies, and the operator's own proxy configs (drift).
  { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', bucket: 'configMaps' },
  {
    kind: 'BackendTLSPolicy',
    apiVersion: 'gateway.networking.k8s.io/v1',
    plural: 'backendtlspolicies',
    bucket: 'backendTLSPolicies',
  },
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
