import type { GRPCRoute, HTTPRoute, HTTPRouteRule } from '../resources/gateway-api.ts';

/** Characters with a meaning in regular expressions, escaped so a gRPC name matches literally. */
function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A GRPCRoute seen as the HTTP routing it amounts to: gRPC calls are HTTP/2 POSTs to
 * `/<service>/<method>`, so a method match is a path match (service and method: Exact path;
 * service only: its path prefix; method only or regular expressions: a path expression). Headers,
 * filters, backendRefs and sessionPersistence carry over; the caller marks the routes as gRPC.
 */
export function grpcRouteAsHttp(route: GRPCRoute): HTTPRoute {
  return {
    apiVersion: route.apiVersion,
    kind: 'HTTPRoute',
    metadata: route.metadata,
    spec: {
      ...(route.spec.parentRefs ? { parentRefs: route.spec.parentRefs } : {}),
      ...(route.spec.hostnames ? { hostnames: route.spec.hostnames } : {}),
      rules: (route.spec.rules ?? [{}]).map(
        (rule): HTTPRouteRule => ({
          ...(rule.name ? { name: rule.name } : {}),
          ...(rule.filters ? { filters: rule.filters } : {}),
          ...(rule.backendRefs ? { backendRefs: rule.backendRefs } : {}),
          ...(rule.sessionPersistence ? { sessionPersistence: rule.sessionPersistence } : {}),
          matches: (rule.matches?.length ? rule.matches : [{}]).map((m) => ({
            path: pathFor(m.method),
            ...(m.headers ? { headers: m.headers } : {}),
          })),
        }),
      ),
    },
  };
}

function pathFor(m: { type?: 'Exact' | 'RegularExpression'; service?: string; method?: string } | undefined) {
  if (!m || (!m.service && !m.method)) return { type: 'PathPrefix' as const, value: '/' };
  if ((m.type ?? 'Exact') === 'RegularExpression')
    return { type: 'RegularExpression' as const, value: `/${m.service ?? '[^/]+'}/${m.method ?? '[^/]+'}` };
  if (m.service && m.method) return { type: 'Exact' as const, value: `/${m.service}/${m.method}` };
  if (m.service) return { type: 'PathPrefix' as const, value: `/${m.service}` };
  return { type: 'RegularExpression' as const, value: `/[^/]+/${literal(m.method!)}` };
}
