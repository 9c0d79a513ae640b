import type { Route } from '../../../proxy/src/config/schema.ts';

/** An IR route with what Gateway API precedence needs to order it among routes of other objects. */
export interface RankedRoute {
  route: Route;
  creationTimestamp: string;
  namespacedName: string;
  ruleIndex: number;
  matchIndex: number;
}

const PATH_RANK = { Exact: 3, RegularExpression: 2, PathPrefix: 1 } as const;

/**
 * Gateway API precedence among matches on one hostname: Exact path, then (implementation-specific)
 * regular expressions, then longest PathPrefix; then a method match; then most header matches; then
 * most query matches; then the oldest route; then namespace/name; then rule and match order.
 */
export function comparePrecedence(a: RankedRoute, b: RankedRoute): number {
  const ma = a.route.match;
  const mb = b.route.match;
  return (
    PATH_RANK[mb.path.type] - PATH_RANK[ma.path.type] ||
    significantLength(mb.path.value) - significantLength(ma.path.value) ||
    Number(mb.method !== undefined) - Number(ma.method !== undefined) ||
    mb.headers.length - ma.headers.length ||
    mb.queryParams.length - ma.queryParams.length ||
    compareStrings(a.creationTimestamp, b.creationTimestamp) ||
    compareStrings(a.namespacedName, b.namespacedName) ||
    a.ruleIndex - b.ruleIndex ||
    a.matchIndex - b.matchIndex
  );
}

/** `/foo/` and `/foo` are the same prefix; compare them by the length that matters. */
function significantLength(path: string): number {
  let end = path.length;
  while (end > 1 && path[end - 1] === '/') end--;
  return end;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
