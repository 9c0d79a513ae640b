import type { Condition } from './conditions.ts';

export interface RouteGroupKind {
  group: string;
  kind: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface RouteParentStatus {
  parentRef: {
    group: string;
    kind: string;
    namespace: string;
    name: string;
    sectionName?: string;
    port?: number;
  };
  controllerName: string;
  conditions: Condition[];
}

/** A policy's status toward one ancestor (here: each Gateway whose proxy applies it). */
export interface PolicyAncestorStatus {
  ancestorRef: { group: string; kind: string; namespace: string; name: string; sectionName?: string };
  controllerName: string;
  conditions: Condition[];
}

export type StatusUpdate =
  | {
      kind: 'GatewayClass';
      name: string;
      status: { conditions: Condition[]; supportedFeatures: { name: string }[] };
    }
  | {
      kind: 'Gateway';
      namespace: string;
      name: string;
      status: { conditions: Condition[]; listeners: ListenerStatus[] };
    }
  | {
      kind: 'HTTPRoute' | 'GRPCRoute' | 'TCPRoute' | 'TLSRoute' | 'UDPRoute';
      namespace: string;
      name: string;
      status: { parents: RouteParentStatus[] };
    }
  | {
      kind: 'BackendTLSPolicy' | 'SecurityPolicy' | 'ClientTrafficPolicy' | 'BackendTrafficPolicy';
      namespace: string;
      name: string;
      status: { ancestors: PolicyAncestorStatus[] };
    }
  | { kind: 'AIBackend'; namespace: string; name: string; status: { conditions: Condition[] } }
  | { kind: 'TokenRateLimitPolicy'; namespace: string; name: string; status: { conditions: Condition[] } }
  | { kind: 'PromptGuard'; namespace: string; name: string; status: { conditions: Condition[] } };
