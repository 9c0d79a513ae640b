import type { PathModifier } from '../config/schema.ts';
import { trimTrailingSlash } from '../paths/trim-trailing-slash.ts';

/**
 * Applies ReplaceFullPath or ReplacePrefixMatch. For a prefix, `matchedPrefix` is the route's
 * PathPrefix value; only whole segments are replaced (`/foo` → `/bar` turns `/foo/x` into `/bar/x`).
 */
export function rewritePath(path: string, mod: PathModifier, matchedPrefix: string): string {
  if (mod.type === 'ReplaceFullPath') return mod.value;
  const prefix = trimTrailingSlash(matchedPrefix);
  const rest = path.slice(prefix.length);
  const rewritten = trimTrailingSlash(mod.value) + rest;
  return rewritten === '' ? '/' : rewritten.startsWith('/') ? rewritten : `/${rewritten}`;
}
