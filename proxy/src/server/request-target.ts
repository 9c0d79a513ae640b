import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ErrorCode } from '../errors/catalog.ts';
import { normalizePath } from '../paths/normalize-path.ts';
import type { ServedPort } from './listener-state.ts';

/** What a request line and its headers say about where the request goes, once checked. */
export type RequestTarget =
  | { ok: true; host: string | undefined; url: string }
  | { ok: false; error: ErrorCode };

interface RawRequest {
  method?: string | undefined;
  url?: string | undefined;
  httpVersionMajor: number;
  httpVersionMinor: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
}

/**
 * The request's authority and origin-form target, with the ambiguities a smuggler relies on
 * refused (RFC 9112 §3.2, RFC 9113 §8.3.1):
 * - HTTP/1.1 needs exactly one Host; two Host headers are a 400 whatever their values.
 * - An absolute-form target (`GET http://a.example/x`) names the authority itself: Host is ignored
 *   and replaced, so routing and the upstream see the same authority.
 * - HTTP/2's `:authority` wins over a `host` header, which is made to agree with it.
 * - HTTP/0.9 simple requests are refused.
 * The request's `host` header is rewritten in place to the authority that was decided on, and the
 * path is normalised (see normalizePath): what routes match is what the upstream receives.
 */
export function requestTarget(raw: RawRequest): RequestTarget {
  const target = authorityAndUrl(raw);
  if (!target.ok || target.url === '*') return target;
  const q = target.url.indexOf('?');
  const path = q === -1 ? target.url : target.url.slice(0, q);
  const normal = normalizePath(path);
  if (normal === undefined) return { ok: false, error: 'invalid_path' };
  if (normal === path) return target;
  return { ok: true, host: target.host, url: q === -1 ? normal : normal + target.url.slice(q) };
}

function authorityAndUrl(raw: RawRequest): RequestTarget {
  const headers = raw.headers;
  const url = raw.url ?? '/';
  if (raw.httpVersionMajor === 2) {
    const authority = headers[':authority'];
    if (typeof authority === 'string') headers.host = authority;
    return { ok: true, host: headers.host, url };
  }
  if (raw.httpVersionMajor !== 1) return { ok: false, error: 'bad_request' };
  let hosts = 0;
  const rawHeaders = raw.rawHeaders;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return { ok: false, error: 'conflicting_host' };
  if (url.charCodeAt(0) !== 47 /* '/' */ && url !== '*') {
    const absolute = absoluteForm(url);
    if (!absolute) return { ok: false, error: 'bad_request' };
    headers.host = absolute.authority;
    return { ok: true, host: absolute.authority, url: absolute.path };
  }
  if (hosts === 0 && raw.httpVersionMinor >= 1) return { ok: false, error: 'missing_host' };
  return { ok: true, host: headers.host, url };
}

/** `http://authority/path?query` → its parts; anything else (an authority-form, garbage) → undefined. */
function absoluteForm(url: string): { authority: string; path: string } | undefined {
  const scheme = /^https?:\/\//i.exec(url);
  if (!scheme) return undefined;
  const rest = url.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  // Userinfo in a request target is never legitimate (RFC 9110 §4.2.4) and an empty authority is no target.
  if (authority === '' || authority.includes('@')) return undefined;
  let path = end === -1 ? '/' : rest.slice(end);
  if (path.charCodeAt(0) !== 47) path = `/${path}`;
  return { authority: authority.toLowerCase(), path };
}

/**
 * An HTTPS request whose Host another listener of the port owns than the one its TLS handshake
 * picked by SNI (see SniTable.servesHost). Without SNI (a client dialling an IP) nothing is compared.
 */
export function misdirected(served: ServedPort, raw: IncomingMessage, host: string | undefined): boolean {
  if (!served.tls || host === undefined) return false;
  const sni = (raw.socket as TLSSocket).servername;
  return typeof sni === 'string' && sni !== '' && !served.tls.servesHost(sni, host);
}
