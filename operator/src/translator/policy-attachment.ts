import { GATEWAY_GROUP } from '../resources/gateway-api.ts';
import type { Condition } from './conditions.ts';
import { compareStrings } from './precedence.ts';
import type { PolicyAncestorStatus } from './status.ts';

/** GEP-713's tie-break between policies on the same target: the oldest wins, then by namespace/name. */
export function oldestFirst(
  a: { metadata: { creationTimestamp?: string | undefined; namespace?: string | undefined; name: string } },
  b: { metadata: { creationTimestamp?: string | undefined; namespace?: string | undefined; name: string } },
): number {
  return (
    compareStrings(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    compareStrings(a.metadata.namespace ?? 'default', b.metadata.namespace ?? 'default') ||
    compareStrings(a.metadata.name, b.metadata.name)
  );
}

/** A policy's status toward one Gateway (`namespace/name`). */
export function gatewayAncestor(
  gateway: string,
  controllerName: string,
  conditions: Condition[],
): PolicyAncestorStatus {
  const [namespace, name] = gateway.split('/') as [string, string];
  return {
    ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name },
    controllerName,
    conditions,
  };
}
