import type { TSchema } from '@sinclair/typebox';
import { BackendTrafficPolicySchema, backendTrafficPolicyProblems } from './backend-traffic-policy.ts';
import { ClientTrafficPolicySchema, clientTrafficPolicyProblems } from './client-traffic-policy.ts';
import {
  ConfigMapSchema,
  EndpointSliceSchema,
  NamespaceSchema,
  SecretSchema,
  ServiceSchema,
} from './core.ts';
import {
  BackendTLSPolicySchema,
  GATEWAY_GROUP,
  GatewayClassSchema,
  GatewaySchema,
  GRPCRouteSchema,
  HTTPRouteSchema,
  ReferenceGrantSchema,
  TCPRouteSchema,
  TLSRouteSchema,
  UDPRouteSchema,
} from './gateway-api.ts';
import { SecurityPolicySchema, securityPolicyProblems } from './security-policy.ts';
import {
  AIBackendSchema,
  aiBackendProblems,
  PromptGuardSchema,
  promptGuardProblems,
  SLUICE_API_VERSION,
  TokenRateLimitPolicySchema,
  tokenRateLimitPolicyProblems,
} from './sluice-api.ts';
import type { Resources } from './snapshot.ts';

export interface KindInfo {
  /** The REST resource name, as the API server (or the CRD's spec.names) declares it. */
  plural: string;
  /** API versions accepted for this kind. */
  apiVersions: readonly string[];
  schema: TSchema;
  namespaced: boolean;
  /** Where objects of this kind go in a Resources snapshot. */
  bucket: keyof Resources;
  /** Rules beyond the schema (cross-field checks): field path and reason of each violation. */
  problems?: (obj: never) => { field: string; message: string }[];
}

/** Every kind a provider accepts; anything else is reported as an unknown kind. */
export const KINDS: Readonly<Record<string, KindInfo>> = {
  GatewayClass: {
    plural: 'gatewayclasses',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1beta1`],
    schema: GatewayClassSchema,
    namespaced: false,
    bucket: 'gatewayClasses',
  },
  Gateway: {
    plural: 'gateways',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1beta1`],
    schema: GatewaySchema,
    namespaced: true,
    bucket: 'gateways',
  },
  HTTPRoute: {
    plural: 'httproutes',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1beta1`],
    schema: HTTPRouteSchema,
    namespaced: true,
    bucket: 'httpRoutes',
  },
  GRPCRoute: {
    plural: 'grpcroutes',
    apiVersions: [`${GATEWAY_GROUP}/v1`],
    schema: GRPCRouteSchema,
    namespaced: true,
    bucket: 'grpcRoutes',
  },
  TCPRoute: {
    plural: 'tcproutes',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1alpha2`],
    schema: TCPRouteSchema,
    namespaced: true,
    bucket: 'tcpRoutes',
  },
  TLSRoute: {
    plural: 'tlsroutes',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1alpha2`, `${GATEWAY_GROUP}/v1alpha3`],
    schema: TLSRouteSchema,
    namespaced: true,
    bucket: 'tlsRoutes',
  },
  UDPRoute: {
    plural: 'udproutes',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1alpha2`],
    schema: UDPRouteSchema,
    namespaced: true,
    bucket: 'udpRoutes',
  },
  ReferenceGrant: {
    plural: 'referencegrants',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1beta1`],
    schema: ReferenceGrantSchema,
    namespaced: true,
    bucket: 'referenceGrants',
  },
  Service: {
    plural: 'services',
    apiVersions: ['v1'],
    schema: ServiceSchema,
    namespaced: true,
    bucket: 'services',
  },
  EndpointSlice: {
    plural: 'endpointslices',
    apiVersions: ['discovery.k8s.io/v1'],
    schema: EndpointSliceSchema,
    namespaced: true,
    bucket: 'endpointSlices',
  },
  Namespace: {
    plural: 'namespaces',
    apiVersions: ['v1'],
    schema: NamespaceSchema,
    namespaced: false,
    bucket: 'namespaces',
  },
  Secret: {
    plural: 'secrets',
    apiVersions: ['v1'],
    schema: SecretSchema,
    namespaced: true,
    bucket: 'secrets',
  },
  ConfigMap: {
    plural: 'configmaps',
    apiVersions: ['v1'],
    schema: ConfigMapSchema,
    namespaced: true,
    bucket: 'configMaps',
  },
  BackendTLSPolicy: {
    plural: 'backendtlspolicies',
    apiVersions: [`${GATEWAY_GROUP}/v1`, `${GATEWAY_GROUP}/v1alpha3`],
    schema: BackendTLSPolicySchema,
    namespaced: true,
    bucket: 'backendTLSPolicies',
  },
  AIBackend: {
    plural: 'aibackends',
    apiVersions: [SLUICE_API_VERSION],
    schema: AIBackendSchema,
    namespaced: true,
    bucket: 'aiBackends',
    problems: aiBackendProblems as (obj: never) => { field: string; message: string }[],
  },
  PromptGuard: {
    plural: 'promptguards',
    apiVersions: [SLUICE_API_VERSION],
    schema: PromptGuardSchema,
    namespaced: true,
    bucket: 'promptGuards',
    problems: promptGuardProblems as (obj: never) => { field: string; message: string }[],
  },
  TokenRateLimitPolicy: {
    plural: 'tokenratelimitpolicies',
    apiVersions: [SLUICE_API_VERSION],
    schema: TokenRateLimitPolicySchema,
    namespaced: true,
    bucket: 'tokenRateLimitPolicies',
    problems: tokenRateLimitPolicyProblems as (obj: never) => { field: string; message: string }[],
  },
  SecurityPolicy: {
    plural: 'securitypolicies',
    apiVersions: [SLUICE_API_VERSION],
    schema: SecurityPolicySchema,
    namespaced: true,
    bucket: 'securityPolicies',
    problems: securityPolicyProblems as (obj: never) => { field: string; message: string }[],
  },
  ClientTrafficPolicy: {
    plural: 'clienttrafficpolicies',
    apiVersions: [SLUICE_API_VERSION],
    schema: ClientTrafficPolicySchema,
    namespaced: true,
    bucket: 'clientTrafficPolicies',
    problems: clientTrafficPolicyProblems as (obj: never) => { field: string; message: string }[],
  },
  BackendTrafficPolicy: {
    plural: 'backendtrafficpolicies',
    apiVersions: [SLUICE_API_VERSION],
    schema: BackendTrafficPolicySchema,
    namespaced: true,
    bucket: 'backendTrafficPolicies',
    problems: backendTrafficPolicyProblems as (obj: never) => { field: string; message: string }[],
  },
};
