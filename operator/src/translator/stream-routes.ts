import type { StreamRoute as StreamRouteConfig } from '../../../proxy/src/config/schema.ts';
import { GATEWAY_GROUP, type Gateway, type StreamRoute } from '../resources/gateway-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { attach, resolvedRefs, routeParentStatus } from './attachment.ts';
import type { BackendResolver } from './backends.ts';
import type { Condition } from './conditions.ts';
import type { ListenerInfo } from './listeners.ts';
import { compareStrings } from './precedence.ts';
import type { RouteParentStatus, StatusUpdate } from './status.ts';

export interface StreamAttachment {
  listener: ListenerInfo;
  route: StreamRouteConfig;
  /** Oldest route first, then namespace/name: which route wins a TCP or UDP port shared by several. */
  order: string;
}

export interface StreamContext {
  gatewayByKey: ReadonlyMap<string, Gateway>;
  listenersByGateway: ReadonlyMap<string, ListenerInfo[]>;
  namespaceLabels: ReadonlyMap<string, Record<string, string>>;
  resolver: BackendResolver;
  controllerName: string;
}

/**
 * TCPRoutes, TLSRoutes and UDPRoutes: attachment to listeners of their kind (TLSRoutes by hostname),
 * backends resolved like HTTPRoute backends, and a parent status per parentRef.
 */
export function translateStreamRoutes(
  resources: Resources,
  ctx: StreamContext,
): { attachments: Map<string, StreamAttachment[]>; statuses: StatusUpdate[] } {
  const attachments = new Map<string, StreamAttachment[]>();
  const statuses: StatusUpdate[] = [];
  const routes: StreamRoute[] = [
    ...resources.tcpRoutes.map((r) => ({ ...r, kind: 'TCPRoute' as const })),
    ...resources.tlsRoutes.map((r) => ({ ...r, kind: 'TLSRoute' as const })),
    ...resources.udpRoutes.map((r) => ({ ...r, kind: 'UDPRoute' as const })),
  ];
  for (const route of routes) {
    const namespace = route.metadata.namespace ?? 'default';
    const generation = route.metadata.generation;
    const id = `${route.kind.toLowerCase()}/${namespace}/${route.metadata.name}`;
    let refProblem: { reason: string; message: string } | undefined;
    const rules: StreamRouteConfig[] = route.spec.rules.map((rule, i) => ({
      name: `${id}/rule/${i}`,
      hostnames: route.spec.hostnames ?? [],
      backends: rule.backendRefs.map((ref) => {
        const r = ctx.resolver.resolve(ref, namespace, route.kind);
        if (!r.ok) refProblem ??= r;
        return { ...(r.ok ? { cluster: r.cluster } : {}), weight: ref.weight ?? 1 };
      }),
    }));
    const parents: RouteParentStatus[] = [];
    for (const ref of route.spec.parentRefs ?? []) {
      if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
      const gatewayKey = `${ref.namespace ?? namespace}/${ref.name}`;
      const gateway = ctx.gatewayByKey.get(gatewayKey);
      if (!gateway) continue;
      const { accepted, attached } = attach(
        { kind: route.kind, namespace, generation, hostnames: route.spec.hostnames ?? [] },
        ref,
        ctx.listenersByGateway.get(gatewayKey)!,
        ctx.namespaceLabels,
        gateway,
      );
      for (const a of attached) {
        a.listener.attachedRoutes++;
        const order = `${route.metadata.creationTimestamp ?? ''} ${namespace}/${route.metadata.name}`;
        const list = attachments.get(gatewayKey) ?? [];
        for (const rule of rules)
          list.push({
            listener: a.listener,
            route: {
              ...rule,
              hostnames: route.kind === 'TLSRoute' ? a.hostnames.filter((h) => h !== '*') : [],
            },
            order,
          });
        attachments.set(gatewayKey, list);
      }
      const conditions: Condition[] = [accepted, resolvedRefs(refProblem, generation)];
      parents.push(routeParentStatus(ref, namespace, ctx.controllerName, conditions));
    }
    if (parents.length > 0)
      statuses.push({ kind: route.kind, namespace, name: route.metadata.name, status: { parents } });
  }
  for (const list of attachments.values())
    list.sort((a, b) => compareStrings(a.order, b.order) || compareStrings(a.route.name, b.route.name));
  return { attachments, statuses };
}
