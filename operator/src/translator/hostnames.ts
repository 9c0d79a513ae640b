/**
 * Gateway API hostname rules. A wildcard `*.example.com` matches one or more leading labels
 * (`a.example.com`, `a.b.example.com`) but never `example.com` itself.
 */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1); // ".example.com"
  return host.length > suffix.length && host.endsWith(suffix);
}

/**
 * The hostnames a route serves on a listener: the intersection of the listener's hostname (if any)
 * with the route's hostnames (if any). `['*']` means any host. Empty means they do not intersect.
 */
export function intersectHostnames(
  listenerHostname: string | undefined,
  routeHostnames: readonly string[],
): string[] {
  if (routeHostnames.length === 0) return [listenerHostname ?? '*'];
  if (listenerHostname === undefined) return [...routeHostnames];
  const out = new Set<string>();
  for (const h of routeHostnames) {
    if (h === listenerHostname || hostnameMatches(listenerHostname, h)) out.add(h);
    else if (hostnameMatches(h, listenerHostname)) out.add(listenerHostname);
  }
  return [...out];
}
