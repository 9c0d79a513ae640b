import { isIP, type Socket } from 'node:net';
import proxyProtocol from 'proxy-protocol-js';
import { type ConnectionServer, interceptConnections } from './intercept-connections.ts';

/** What a listener asks of its connections' first bytes (ClientTrafficPolicy `proxyProtocol`). */
export interface ProxyProtocolSetting {
  /** Connections without a header are served as they are, instead of being closed. */
  optional: boolean;
}

const V1_PREFIX = Buffer.from('PROXY ');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The longest v1 line the specification allows, CRLF included. */
const V1_MAX = 107;
/** A v2 header with its TLVs: bounded so a peer cannot make us buffer 64 KiB per connection. */
const V2_MAX = 4096;
/** A connection that has not sent its whole header by then is dropped. */
const HEADER_TIMEOUT_MS = 10_000;

interface ProxiedServer extends ConnectionServer {
  prependListener(
    event: 'secureConnection',
    listener: (socket: Socket & { _parent?: Socket }) => void,
  ): unknown;
}

/**
 * The PROXY protocol (HAProxy's v1 text and v2 binary headers) in front of a server: while `settingOf`
 * returns a setting, each new connection's header is read and taken off before the server sees a
 * byte, and the client it names becomes the socket's `remoteAddress`/`remotePort` — so client-IP
 * rules, rate limits, X-Forwarded-For and logs see the client, not the load balancer. A missing or
 * malformed header closes the connection (unless optional); `LOCAL` and `UNKNOWN` headers (health
 * checks of the balancer itself) keep the peer. Parsing is proxy-protocol-js's; framing (where the
 * header ends) is done here, since the library parses a complete header only.
 */
export function acceptProxyProtocol(
  server: ProxiedServer,
  settingOf: () => ProxyProtocolSetting | undefined,
  tls: boolean,
): void {
  interceptConnections(server, (socket, handOver) => {
    const setting = settingOf();
    if (!setting) return handOver(socket);
    let seen: Buffer = Buffer.alloc(0);
    // Until the header is read nobody else listens for errors: a reset must not become an uncaught
    // 'error' event.
    const onError = () => socket.destroy();
    socket.on('error', onError);
    socket.setTimeout(HEADER_TIMEOUT_MS, () => socket.destroy());
    const done = (client: { address: string; port: number } | undefined, rest: Buffer) => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.setTimeout(0);
      socket.pause();
      if (client) posingAs(socket, client);
      if (rest.length > 0) socket.unshift(rest);
      handOver(socket);
      // A cleartext server reads the stream, so it must flow again; TLS takes over the socket's handle
      // and reads what was put back itself (resuming the raw socket there would steal its bytes).
      if (!tls) socket.resume();
    };
    const onData = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const header = frame(seen);
      if (header === 'more') return;
      if (header === 'none') return setting.optional ? done(undefined, seen) : socket.destroy();
      if (header === 'invalid') return socket.destroy();
      const client = parse(seen.subarray(0, header));
      if (client === 'invalid') return socket.destroy();
      done(client, seen.subarray(header));
    };
    socket.on('data', onData);
  });
  // A TLS socket reads its peer from the TCP handle: it gets the client from the raw socket it wraps.
  if (tls)
    server.prependListener('secureConnection', (secure) => {
      const raw = secure._parent;
      if (raw && Object.hasOwn(raw, 'remoteAddress'))
        posingAs(secure, { address: raw.remoteAddress!, port: raw.remotePort! });
    });
}

/** The header's length, or what the bytes so far say: need more, no header at all, or a broken one. */
function frame(bytes: Buffer): number | 'more' | 'none' | 'invalid' {
  const v1 = startsAs(bytes, V1_PREFIX);
  const v2 = startsAs(bytes, V2_SIGNATURE);
  if (v1 === 'no' && v2 === 'no') return 'none';
  if (v1 === 'yes') {
    const end = bytes.indexOf('\r\n');
    if (end !== -1 && end + 2 <= V1_MAX) return end + 2;
    return bytes.length >= V1_MAX ? 'invalid' : 'more';
  }
  if (v2 === 'yes') {
    if (bytes.length < 16) return 'more';
    const length = 16 + bytes.readUInt16BE(14);
    if (length > V2_MAX) return 'invalid';
    return bytes.length >= length ? length : 'more';
  }
  return 'more';
}

function startsAs(bytes: Buffer, prefix: Buffer): 'yes' | 'no' | 'maybe' {
  const n = Math.min(bytes.length, prefix.length);
  if (!bytes.subarray(0, n).equals(prefix.subarray(0, n))) return 'no';
  return n === prefix.length ? 'yes' : 'maybe';
}

/** The client a header names; undefined when it names none (LOCAL, UNKNOWN, UNIX or unspecified). */
function parse(header: Buffer): { address: string; port: number } | undefined | 'invalid' {
  try {
    if (header[0] === V1_PREFIX[0]) {
      const v1 = proxyProtocol.V1BinaryProxyProtocol.parse(header);
      if (v1.inetProtocol === proxyProtocol.INETProtocol.UNKNOWN) return undefined;
      const address = canonical(v1.source.ipAddress);
      return address === undefined ? 'invalid' : { address, port: v1.source.port };
    }
    const v2 = proxyProtocol.V2ProxyProtocol.parse(header);
    if (v2.command === proxyProtocol.Command.LOCAL) return undefined;
    const a = v2.proxyAddress;
    if (a instanceof proxyProtocol.IPv4ProxyAddress)
      return { address: a.sourceAddress.address.join('.'), port: a.sourcePort };
    if (a instanceof proxyProtocol.IPv6ProxyAddress) {
      const groups = [];
      for (let i = 0; i < 16; i += 2)
        groups.push(((a.sourceAddress.address[i]! << 8) | a.sourceAddress.address[i + 1]!).toString(16));
      return { address: canonical(groups.join(':'))!, port: a.sourcePort };
    }
    return undefined;
  } catch {
    return 'invalid';
  }
}

/** An address as Node writes peers (`::1`, `10.0.0.7`); undefined when it is not one. */
function canonical(address: string): string | undefined {
  const kind = isIP(address);
  if (kind === 4) return address;
  if (kind !== 6) return undefined;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

function posingAs(socket: Socket, client: { address: string; port: number }): void {
  const family = client.address.includes(':') ? 'IPv6' : 'IPv4';
  Object.defineProperties(socket, {
    remoteAddress: { value: client.address, configurable: true },
    remotePort: { value: client.port, configurable: true },
    remoteFamily: { value: family, configurable: true },
  });
}
