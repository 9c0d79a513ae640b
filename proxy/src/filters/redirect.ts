import type { Redirect } from '../config/schema.ts';
import { rewritePath } from './path-rewrite.ts';

const WELL_KNOWN_PORT: Record<string, number> = { http: 80, https: 443 };

export interface RedirectContext {
  scheme: 'http' | 'https';
  host: string;
  listenerPort: number;
  path: string;
  rawQuery: string;
  matchedPrefix: string;
}

/** The Location of a RequestRedirect, with the Gateway API's port rules. */
export function redirectLocation(r: Redirect, ctx: RedirectContext): string {
  const scheme = r.scheme ?? ctx.scheme;
  const host = r.hostname ?? stripPort(ctx.host);
  // Spec: an explicit port wins; a changed scheme implies its well-known port; otherwise the listener's.
  const port = r.port ?? (r.scheme !== undefined ? WELL_KNOWN_PORT[scheme] : ctx.listenerPort);
  const portPart = port === undefined || port === WELL_KNOWN_PORT[scheme] ? '' : `:${port}`;
  const path = r.path ? rewritePath(ctx.path, r.path, ctx.matchedPrefix) : ctx.path;
  const query = ctx.rawQuery ? `?${ctx.rawQuery}` : '';
  return `${scheme}://${host}${portPart}${path}${query}`;
}

export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
