import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { readServerName } from './client-hello.ts';

/** The first bytes a real Node TLS client sends for `servername`. */
async function clientHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      socket.once('data', (data) => {
        resolve(data);
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      const client = tlsConnect({
        port,
        host: '127.0.0.1',
        ...(servername ? { servername } : {}),
        rejectUnauthorized: false,
      });
      client.on('error', () => {});
    });
  });
}

describe('readServerName', () => {
  it('reads the SNI of a real ClientHello', async () => {
    expect(readServerName(await clientHello('Shop.Example.com'))).toBe('shop.example.com');
  });

  it('asks for more bytes while the record is incomplete', async () => {
    const hello = await clientHello('shop.example.com');
    expect(readServerName(hello.subarray(0, 3))).toBeUndefined();
    expect(readServerName(hello.subarray(0, hello.length - 1))).toBeUndefined();
  });

  it('returns null for a ClientHello without SNI and for bytes that are not TLS', async () => {
    expect(readServerName(await clientHello(undefined))).toBeNull();
    expect(readServerName(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBeNull();
    expect(readServerName(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0, 0, 0]))).toBeNull();
  });

  it('survives garbage of every length without throwing', () => {
    for (let n = 0; n < 300; n++) {
      const junk = Buffer.alloc(n, 0x16);
      expect(() => readServerName(junk)).not.toThrow();
    }
  });
});
