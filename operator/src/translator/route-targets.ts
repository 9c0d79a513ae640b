import { type RouteTarget, routeInTarget } from '../../../proxy/src/config/route-ref.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import type { Resources } from '../resources/snapshot.ts';

/**
 * A policy's reference to an HTTPRoute (a whole route, or with `sectionName` one named rule) as the
 * typed target the proxy config carries, or undefined when no such route or rule exists.
 */
export function resolveRouteTarget(
  resources: Resources,
  namespace: string,
  ref: { name: string; sectionName?: string | undefined },
): RouteTarget | undefined {
  const route = resources.httpRoutes.find(
    (r) => (r.metadata.namespace ?? 'default') === namespace && r.metadata.name === ref.name,
  );
  if (!route) return undefined;
  const target: RouteTarget = { kind: 'HTTPRoute', namespace, name: ref.name };
  if (ref.sectionName === undefined) return target;
  const rule = (route.spec.rules ?? []).findIndex((r) => r.name === ref.sectionName);
  return rule < 0 ? undefined : { ...target, rule };
}

/** Whether a Gateway's config serves any route rule the target names. */
export function servesTarget(config: ProxyConfig, target: RouteTarget): boolean {
  return config.listeners.some((l) =>
    l.virtualHosts.some((vh) => vh.routes.some((r) => routeInTarget(r.ref, target))),
  );
}

/** `HTTPRoute ns/name` or `HTTPRoute ns/name rule <section>`, for conditions. */
export function describeRouteRef(namespace: string, ref: { name: string; sectionName?: string | undefined }) {
  return `HTTPRoute ${namespace}/${ref.name}${ref.sectionName ? ` rule ${ref.sectionName}` : ''}`;
}
