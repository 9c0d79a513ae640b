import { hostnameMatches } from './hostnames.ts';

/** Exact names first, then wildcards from the longest, then `*`; ties alphabetically. */
export function compareHostnameSpecificity(a: string, b: string): number {
  return rank(b) - rank(a) || (a < b ? -1 : a > b ? 1 : 0);
}

function rank(h: string): number {
  if (h === '*') return 0;
  if (h.startsWith('*.')) return h.length;
  return 10_000 + h.length;
}

/** Whether every host matched by `specific` is also matched by `general`. */
export function hostnameCovers(general: string, specific: string): boolean {
  if (general === '*' || general === specific) return true;
  if (!general.startsWith('*.')) return false;
  // `*.a.example.com` is covered by `*.example.com` exactly when `a.example.com` is.
  return hostnameMatches(general, specific.startsWith('*.') ? specific.slice(2) : specific);
}
