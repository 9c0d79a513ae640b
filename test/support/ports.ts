import { createServer } from 'node:net';

/**
 * Ports for test listeners, from a block of 1,000 per vitest worker below the kernel's ephemeral
 * range (32768+ on Linux). Asking the kernel for port 0 and closing it raced under the parallel pool:
 * another worker's `listen(0)` or outgoing connection could take the port before the test bound it.
 * Each worker now owns its block, never hands out a port twice, and checks that it is free.
 */
const WORKER = Number(process.env.VITEST_POOL_ID ?? 0);
const BLOCK_START = 20_000 + (WORKER % 12) * 1_000;
let next = BLOCK_START;

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1_000; tries++) {
    const port = next;
    next = next + 1 >= BLOCK_START + 1_000 ? BLOCK_START : next + 1;
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in ${BLOCK_START}-${BLOCK_START + 999}`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
