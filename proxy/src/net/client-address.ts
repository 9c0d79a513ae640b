import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { ClientIPDetection } from '../config/schema.ts';
import { cidrMatcher } from './cidr-matcher.ts';

/**
 * Where a request comes from, as IP rules, the authorizer and the access log see it: the socket peer,
 * or what trusted proxies in front say (ClientTrafficPolicy `clientIPDetection`). `undefined` means
 * the configured header is missing or malformed and the listener fails closed.
 */
export type ClientAddressOf = (req: IncomingMessage) => string | undefined;

/** The socket peer, with IPv4-mapped IPv6 (`::ffff:10.0.1.7`) written as the IPv4 address it is. */
export const socketPeerAddress = (req: IncomingMessage): string =>
  plainAddress(req.socket?.remoteAddress ?? '');

/**
 * One listener's client-address rule, compiled once:
 * - `xffTrustedHops: n`: the n-th address from the right of X-Forwarded-For (the one the outermost
 *   trusted proxy saw); fewer entries than that, and the peer is the client (nothing to trust).
 * - `xffTrustedCidrs`: if the peer is one of the trusted proxies, the rightmost X-Forwarded-For entry
 *   that is not is the client (every entry trusted: the leftmost); an untrusted peer is the client.
 * - `header`: a header a trusted proxy sets to the client address; missing or not an address, the
 *   peer is used, or with `failClosed` the request is refused.
 * A client-sent X-Forwarded-For never counts unless the listener says which proxies to trust.
 */
export function compileClientAddress(detection: ClientIPDetection | undefined): ClientAddressOf {
  if (!detection) return socketPeerAddress;
  const header = detection.header?.toLowerCase();
  if (header) {
    const failClosed = detection.failClosed === true;
    return (req) => {
      const value = first(req.headers[header])?.trim();
      const address = value ? plainAddress(unbracket(value)) : '';
      if (isIP(address) !== 0) return address;
      return failClosed ? undefined : socketPeerAddress(req);
    };
  }
  const hops = detection.xffTrustedHops;
  if (hops !== undefined)
    return (req) => {
      const entries = forwardedFor(req);
      const address = entries.length >= hops ? entries[entries.length - hops]! : '';
      return isIP(address) !== 0 ? address : socketPeerAddress(req);
    };
  const trusted = cidrMatcher(detection.xffTrustedCidrs ?? []);
  return (req) => {
    const peer = socketPeerAddress(req);
    if (!trusted(peer)) return peer;
    const entries = forwardedFor(req);
    for (let i = entries.length - 1; i >= 0; i--) {
      const address = entries[i]!;
      if (isIP(address) === 0) return peer;
      if (!trusted(address)) return address;
    }
    return entries[0] ?? peer;
  };
}

/** X-Forwarded-For entries, left to right, over every copy of the header. */
function forwardedFor(req: IncomingMessage): string[] {
  const raw = req.headers['x-forwarded-for'];
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw.join(',') : raw)
    .split(',')
    .map((e) => plainAddress(unbracket(e.trim())))
    .filter((e) => e !== '');
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** `[2001:db8::1]` or `[2001:db8::1]:443` → `2001:db8::1`; `10.0.0.1:443` → `10.0.0.1`. */
function unbracket(value: string): string {
  if (value.startsWith('['))
    return value.slice(1, value.indexOf(']') === -1 ? undefined : value.indexOf(']'));
  const colon = value.indexOf(':');
  return colon !== -1 && colon === value.lastIndexOf(':') ? value.slice(0, colon) : value;
}

function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
