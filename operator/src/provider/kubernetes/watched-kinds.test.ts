import { describe, expect, it } from 'vitest';
import { collectionPath, WATCHED_KINDS } from './watched-kinds.ts';

describe('WATCHED_KINDS', () => {
  it('lists every kind at the REST path the API server serves it on', () => {
    expect(WATCHED_KINDS.map((k) => collectionPath(k))).toEqual([
      '/apis/gateway.networking.k8s.io/v1/gatewayclasses',
      '/apis/gateway.networking.k8s.io/v1/gateways',
      '/apis/gateway.networking.k8s.io/v1/httproutes',
      '/apis/gateway.networking.k8s.io/v1/grpcroutes',
      '/apis/gateway.networking.k8s.io/v1/tcproutes',
      '/apis/gateway.networking.k8s.io/v1/tlsroutes',
      '/apis/gateway.networking.k8s.io/v1/udproutes',
      '/apis/gateway.networking.k8s.io/v1/referencegrants',
      '/api/v1/services',
      '/apis/discovery.k8s.io/v1/endpointslices',
      '/api/v1/namespaces',
      '/api/v1/secrets',
      '/api/v1/configmaps',
      '/apis/gateway.networking.k8s.io/v1/backendtlspolicies',
      '/apis/sluice.dev/v1alpha1/aibackends',
      '/apis/sluice.dev/v1alpha1/promptguards',
      '/apis/sluice.dev/v1alpha1/tokenratelimitpolicies',
      '/apis/sluice.dev/v1alpha1/securitypolicies',
      '/apis/sluice.dev/v1alpha1/clienttrafficpolicies',
      '/apis/sluice.dev/v1alpha1/backendtrafficpolicies',
      '/apis/apps/v1/deployments',
      '/api/v1/configmaps',
      '/api/v1/secrets',
    ]);
  });
});
