import { GATEWAY_GROUP, type Gateway, type GatewayListener } from '../resources/gateway-api.ts';
import { type Condition, condition } from './conditions.ts';
import type { RouteGroupKind } from './status.ts';

/** Listener protocols the data plane serves today. */
const SUPPORTED_PROTOCOLS = new Set(['HTTP']);
const ROUTE_KINDS_BY_PROTOCOL: Record<string, readonly string[]> = { HTTP: ['HTTPRoute'] };

export interface ListenerInfo {
  spec: GatewayListener;
  /** Routes may attach and the listener is programmed. */
  valid: boolean;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

/** Validates each listener of a Gateway: protocol, route kinds, and conflicts on shared ports. */
export function analyzeListeners(gateway: Gateway): ListenerInfo[] {
  const generation = gateway.metadata.generation;
  const listeners = gateway.spec.listeners;
  const conflicts = findConflicts(listeners);
  return listeners.map((l) => {
    const protocolOk = SUPPORTED_PROTOCOLS.has(l.protocol);
    const allowedKinds = ROUTE_KINDS_BY_PROTOCOL[l.protocol] ?? [];
    const requested = l.allowedRoutes?.kinds;
    const supportedKinds: RouteGroupKind[] = [];
    let invalidKinds: string[] = [];
    if (requested === undefined) {
      for (const kind of allowedKinds) supportedKinds.push({ group: GATEWAY_GROUP, kind });
    } else {
      for (const k of requested) {
        const group = k.group ?? GATEWAY_GROUP;
        if (group === GATEWAY_GROUP && allowedKinds.includes(k.kind))
          supportedKinds.push({ group, kind: k.kind });
        else invalidKinds.push(`${group}/${k.kind}`);
      }
    }
    if (!protocolOk) invalidKinds = [];
    const conflict = conflicts.get(l.name);
    const conditions: Condition[] = [];
    if (!protocolOk) {
      conditions.push(
        condition(
          'Accepted',
          false,
          'UnsupportedProtocol',
          `protocol ${l.protocol} is not supported`,
          generation,
        ),
      );
    } else if (conflict) {
      conditions.push(condition('Accepted', false, conflict.reason, conflict.message, generation));
    } else {
      conditions.push(condition('Accepted', true, 'Accepted', 'Listener is accepted', generation));
    }
    conditions.push(
      conflict
        ? condition('Conflicted', true, conflict.reason, conflict.message, generation)
        : condition('Conflicted', false, 'NoConflicts', 'No conflicts', generation),
    );
    conditions.push(
      invalidKinds.length > 0
        ? condition(
            'ResolvedRefs',
            false,
            'InvalidRouteKinds',
            `unsupported route kinds: ${invalidKinds.join(', ')}`,
            generation,
          )
        : condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', generation),
    );
    const valid = protocolOk && !conflict && supportedKinds.length > 0;
    conditions.push(
      valid
        ? condition('Programmed', true, 'Programmed', 'Listener is programmed', generation)
        : condition('Programmed', false, 'Invalid', 'Listener is not valid', generation),
    );
    return { spec: l, valid, supportedKinds, attachedRoutes: 0, conditions };
  });
}

interface Conflict {
  reason: 'HostnameConflict' | 'ProtocolConflict';
  message: string;
}

function findConflicts(listeners: readonly GatewayListener[]): Map<string, Conflict> {
  const out = new Map<string, Conflict>();
  const byPort = new Map<number, GatewayListener[]>();
  for (const l of listeners) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  for (const [port, group] of byPort) {
    const protocols = new Set(group.map((l) => l.protocol));
    if (protocols.size > 1) {
      for (const l of group)
        out.set(l.name, {
          reason: 'ProtocolConflict',
          message: `port ${port} is used with protocols ${[...protocols].sort().join(', ')}`,
        });
      continue;
    }
    const byHost = new Map<string, GatewayListener[]>();
    for (const l of group) byHost.set(l.hostname ?? '', [...(byHost.get(l.hostname ?? '') ?? []), l]);
    for (const [host, same] of byHost) {
      if (same.length < 2) continue;
      for (const l of same)
        out.set(l.name, {
          reason: 'HostnameConflict',
          message: `listeners ${same.map((s) => s.name).join(', ')} share port ${port} and hostname "${host || '*'}"`,
        });
    }
  }
  return out;
}
