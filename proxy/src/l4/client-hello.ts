/**
 * Reads the SNI server name from the first bytes of a TLS connection (a ClientHello), without
 * terminating TLS: what TLS passthrough routes on. Returns `undefined` while more bytes are needed,
 * `null` when the bytes are not a ClientHello or it carries no server name.
 */
export function readServerName(buf: Buffer): string | null | undefined {
  // TLS record: type 22 (handshake), version, length.
  if (buf.length < 5) return undefined;
  if (buf[0] !== 0x16) return null;
  const recordLength = buf.readUInt16BE(3);
  if (buf.length < 5 + recordLength) return undefined;
  const hello = buf.subarray(5, 5 + recordLength);
  // Handshake header: type 1 (ClientHello), 3-byte length; then version (2) and random (32).
  if (hello.length < 4 || hello[0] !== 0x01) return null;
  let at = 4 + 2 + 32;
  const skip = (lengthBytes: 1 | 2): boolean => {
    if (at + lengthBytes > hello.length) return false;
    const n = lengthBytes === 1 ? hello[at]! : hello.readUInt16BE(at);
    at += lengthBytes + n;
    return at <= hello.length;
  };
  // session id, cipher suites, compression methods
  if (!skip(1) || !skip(2) || !skip(1)) return null;
  if (at + 2 > hello.length) return null;
  const extensionsEnd = Math.min(hello.length, at + 2 + hello.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = hello.readUInt16BE(at);
    const length = hello.readUInt16BE(at + 2);
    at += 4;
    if (type === 0x0000) {
      // server_name: list length (2), then entries of type (1), length (2), name.
      let p = at + 2;
      const end = Math.min(at + length, extensionsEnd);
      while (p + 3 <= end) {
        const nameType = hello[p]!;
        const nameLength = hello.readUInt16BE(p + 1);
        if (nameType === 0 && p + 3 + nameLength <= end)
          return hello
            .subarray(p + 3, p + 3 + nameLength)
            .toString('ascii')
            .toLowerCase();
        p += 3 + nameLength;
      }
      return null;
    }
    at += length;
  }
  return null;
}

/** Longest ClientHello buffered while waiting for its SNI (a record is at most 16 KiB plus header). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024 + 5;
