import type { IncomingMessage, Server } from 'node:http';
import { createEchoServer } from '../../tools/echo-server/echo-server.ts';

export interface TestBackend {
  name: string;
  port: number;
  /** Requests this backend has seen (method, url, headers), in arrival order. */
  seen: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  close(): Promise<void>;
}

/** Starts the echo backend on a kernel-chosen loopback port, recording what it receives. */
export async function startBackend(name: string): Promise<TestBackend> {
  const server: Server = createEchoServer({ name });
  const seen: TestBackend['seen'] = [];
  server.prependListener('request', (req: IncomingMessage) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    name,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
