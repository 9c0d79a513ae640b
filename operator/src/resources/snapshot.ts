import type { BackendTrafficPolicy } from './backend-traffic-policy.ts';
import type { ClientTrafficPolicy } from './client-traffic-policy.ts';
import type { ConfigMap, EndpointSlice, Namespace, Secret, Service } from './core.ts';
import type {
  BackendTLSPolicy,
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  ReferenceGrant,
  TCPRoute,
  TLSRoute,
  UDPRoute,
} from './gateway-api.ts';
import type { SecurityPolicy } from './security-policy.ts';
import type { AIBackend, PromptGuard, TokenRateLimitPolicy } from './sluice-api.ts';

/** Everything the translator reads: one consistent snapshot from a provider (Kubernetes or files). */
export interface Resources {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  httpRoutes: HTTPRoute[];
  grpcRoutes: GRPCRoute[];
  tcpRoutes: TCPRoute[];
  tlsRoutes: TLSRoute[];
  udpRoutes: UDPRoute[];
  referenceGrants: ReferenceGrant[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  namespaces: Namespace[];
  secrets: Secret[];
  configMaps: ConfigMap[];
  backendTLSPolicies: BackendTLSPolicy[];
  aiBackends: AIBackend[];
  tokenRateLimitPolicies: TokenRateLimitPolicy[];
  promptGuards: PromptGuard[];
  securityPolicies: SecurityPolicy[];
  clientTrafficPolicies: ClientTrafficPolicy[];
  backendTrafficPolicies: BackendTrafficPolicy[];
}

export function emptyResources(): Resources {
  return {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    tcpRoutes: [],
    tlsRoutes: [],
    udpRoutes: [],
    referenceGrants: [],
    services: [],
    endpointSlices: [],
    namespaces: [],
    secrets: [],
    configMaps: [],
    backendTLSPolicies: [],
    aiBackends: [],
    tokenRateLimitPolicies: [],
    promptGuards: [],
    securityPolicies: [],
    clientTrafficPolicies: [],
    backendTrafficPolicies: [],
  };
}
