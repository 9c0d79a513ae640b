/**
 * The path a request is matched and forwarded with, normalised as Envoy's `normalize_path` plus
 * `merge_slashes` do, so that no spelling of a path reaches a rule written for another:
 * - percent-encoded unreserved characters (RFC 3986 §2.3: letters, digits, `-._~`) are decoded and
 *   every other percent-encoding is upper-cased (§6.2.2.1); a malformed one (`%zz`, a lone `%`)
 *   makes the path invalid;
 * - `%2F` and `%5C` stay encoded (Envoy's default, KEEP_UNCHANGED): an encoded slash is part of a
 *   segment, never a separator, both when matching and upstream;
 * - runs of slashes become one;
 * - dot segments are removed (§5.2.4), including ones spelt `%2e`, and never climb above the root.
 * The query string is left alone. Returns undefined for a path that cannot be normalised.
 */
export function normalizePath(path: string): string | undefined {
  if (path.charCodeAt(0) !== 47) return undefined;
  // The common case costs three scans and no allocation.
  if (!path.includes('%') && !path.includes('//') && !path.includes('/.')) return path;
  let decoded = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    if (c !== '%') {
      decoded += c;
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    decoded += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  const out: string[] = [];
  const segments = decoded.split('/');
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!;
    const last = i === segments.length - 1;
    if (s === '.' || s === '..') {
      if (s === '..') out.pop();
      // `/a/..` and `/a/.` name the directory: keep the trailing slash.
      if (last) out.push('');
      continue;
    }
    // Empty segments (merged slashes) are dropped, except a trailing one.
    if (s === '' && !last) continue;
    out.push(s);
  }
  return `/${out.join('/')}`;
}
