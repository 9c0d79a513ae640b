import { createServer, type Server } from 'node:http';

export interface EchoServerOptions {
  /** Reported in every answer so tests and users can see which backend served them. */
  name: string;
}

/**
 * A small HTTP backend for the quickstart and the tests. It answers every request with a JSON echo of
 * what it received (method, path, headers, body). `?delay=MS` waits before answering and
 * `?status=CODE` picks the status. HTTP Upgrade requests are accepted and their bytes echoed back.
 */
export function createEchoServer(options: EchoServerOptions): Server {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://echo');
      const delay = Number(url.searchParams.get('delay') ?? 0);
      const status = Number(url.searchParams.get('status') ?? 200);
      const body = JSON.stringify({
        server: options.name,
        method: req.method,
        path: url.pathname,
        query: url.search,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', 'x-echo-server': options.name });
        res.end(body);
      };
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
  });
  server.on('upgrade', (req, socket) => {
    // The trace context it was sent, so a proxy's propagation on upgrades can be seen.
    const traceparent = req.headers.traceparent ? `X-Echo-Traceparent: ${req.headers.traceparent}\r\n` : '';
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\nX-Echo-Server: ${options.name}\r\n${traceparent}\r\n`,
    );
    socket.pipe(socket);
    socket.on('error', () => socket.destroy());
  });
  return server;
}
