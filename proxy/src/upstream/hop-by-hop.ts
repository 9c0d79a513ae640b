import type { IncomingHttpHeaders } from 'node:http';
import type { HeaderBag } from '../filters/header-modifier.ts';

/** Connection-scoped headers (RFC 9110 §7.6.1) that a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Only Sluice vouches for a client certificate: a client-sent X-Forwarded-Client-Cert never passes. */
export const CLIENT_CERT = 'x-forwarded-client-cert';

export function forwardableHeaders(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): HeaderBag {
  const out: HeaderBag = {};
  const connection = headers.connection;
  const named =
    typeof connection === 'string' && connection !== 'keep-alive' && connection !== 'close'
      ? new Set(
          connection
            .toLowerCase()
            .split(',')
            .map((s) => s.trim()),
        )
      : undefined;
  for (const name in headers) {
    // HTTP/2 pseudo-headers (:method, :path, :authority, :scheme) describe the request, not headers.
    if (HOP_BY_HOP.has(name) || named?.has(name) || name.charCodeAt(0) === 58 || name === CLIENT_CERT)
      continue;
    out[name] = headers[name];
  }
  // An HTTP/2 client names the host in :authority; HTTP/1.1 upstreams need it as Host.
  const authority = headers[':authority'];
  if (out.host === undefined && typeof authority === 'string') out.host = authority;
  return out;
}
