import type { Gateway, ParentReference } from '../resources/gateway-api.ts';
import { type Condition, condition } from './conditions.ts';
import { intersectHostnames } from './hostnames.ts';
import { selectorMatches } from './labels.ts';
import type { ListenerInfo } from './listeners.ts';
import type { RouteParentStatus } from './status.ts';

/** What attachment needs to know of a route, whatever its kind (HTTPRoute, TCPRoute, TLSRoute…). */
export interface AttachableRoute {
  kind: string;
  namespace: string;
  generation: number | undefined;
  /** Route hostnames (empty: any); kinds without hostnames pass []. */
  hostnames: readonly string[];
  /** Set when every rule is invalid: the route is not accepted anywhere. */
  invalid?: { reason: string; message: string } | undefined;
}

/** Decides whether a route attaches to a Gateway through one parentRef, and to which listeners. */
export function attach(
  route: AttachableRoute,
  ref: ParentReference,
  listeners: ListenerInfo[],
  namespaceLabels: ReadonlyMap<string, Record<string, string>>,
  gateway: Gateway,
): { accepted: Condition; attached: { listener: ListenerInfo; hostnames: string[] }[] } {
  const generation = route.generation;
  const reject = (reason: string, message: string) => ({
    accepted: condition('Accepted', false, reason, message, generation),
    attached: [],
  });
  if (route.invalid) return reject(route.invalid.reason, route.invalid.message);
  const candidates = listeners.filter(
    (l) =>
      (ref.sectionName === undefined || l.spec.name === ref.sectionName) &&
      (ref.port === undefined || l.spec.port === ref.port),
  );
  if (candidates.length === 0)
    return reject(
      'NoMatchingParent',
      `no listener of Gateway ${gatewayName(gateway)} matches sectionName/port`,
    );
  const gatewayNamespace = gateway.metadata.namespace ?? 'default';
  const allowed = candidates.filter(
    (l) =>
      l.accepted &&
      l.supportedKinds.some((k) => k.kind === route.kind) &&
      namespaceAllowed(l, route.namespace, gatewayNamespace, namespaceLabels),
  );
  if (allowed.length === 0)
    return reject(
      'NotAllowedByListeners',
      `no accepted listener of Gateway ${gatewayName(gateway)} allows this route`,
    );
  const attached: { listener: ListenerInfo; hostnames: string[] }[] = [];
  for (const l of allowed) {
    const hostnames = intersectHostnames(l.spec.hostname, route.hostnames);
    if (hostnames.length > 0) attached.push({ listener: l, hostnames });
  }
  if (attached.length === 0)
    return reject('NoMatchingListenerHostname', 'route hostnames do not intersect any listener hostname');
  return { accepted: condition('Accepted', true, 'Accepted', 'Route is accepted', generation), attached };
}

function namespaceAllowed(
  l: ListenerInfo,
  routeNamespace: string,
  gatewayNamespace: string,
  namespaceLabels: ReadonlyMap<string, Record<string, string>>,
): boolean {
  const ns = l.spec.allowedRoutes?.namespaces;
  switch (ns?.from ?? 'Same') {
    case 'All':
      return true;
    case 'Same':
      return routeNamespace === gatewayNamespace;
    case 'Selector': {
      const labels = {
        ...namespaceLabels.get(routeNamespace),
        'kubernetes.io/metadata.name': routeNamespace,
      };
      return ns?.selector !== undefined && selectorMatches(ns.selector, labels);
    }
  }
}

function gatewayName(g: Gateway): string {
  return `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;
}

/** One parent entry of a route's status: the normalized parentRef and its conditions. */
export function routeParentStatus(
  ref: ParentReference,
  routeNamespace: string,
  controllerName: string,
  conditions: Condition[],
): RouteParentStatus {
  return {
    parentRef: {
      group: ref.group ?? 'gateway.networking.k8s.io',
      kind: ref.kind ?? 'Gateway',
      namespace: ref.namespace ?? routeNamespace,
      name: ref.name,
      ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}),
      ...(ref.port !== undefined ? { port: ref.port } : {}),
    },
    controllerName,
    conditions,
  };
}

/** ResolvedRefs of a route: its first backend problem, or all resolved. */
export function resolvedRefs(
  problem: { reason: string; message: string } | undefined,
  generation: number | undefined,
): Condition {
  return problem
    ? condition('ResolvedRefs', false, problem.reason, problem.message, generation)
    : condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', generation);
}
