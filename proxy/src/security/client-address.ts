import type { IncomingMessage } from 'node:http';

/**
 * Where a request comes from, as IP rules, logs and rate limits see it. Today the socket peer;
 * ClientTrafficPolicy (trusted X-Forwarded-For hops, PROXY protocol) replaces this function.
 */
export type ClientAddressOf = (req: IncomingMessage) => string;

/** The socket peer, with IPv4-mapped IPv6 (`::ffff:10.0.1.7`) written as the IPv4 address it is. */
export const socketPeerAddress: ClientAddressOf = (req) => {
  const address = req.socket?.remoteAddress ?? '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
};
