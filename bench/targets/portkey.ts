import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { processTreeCpuSeconds } from '../load/process-cpu.ts';
import { waitForPort } from '../load/wait-for-port.ts';

export interface PortkeyProcess {
  port: number;
  /** Headers that make Portkey forward to the given OpenAI-compatible base URL. */
  headers(baseUrl: string): Record<string, string>;
  /** CPU the gateway process has used so far, in seconds. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/** The Portkey gateway (the Node.js peer), headless, in its own process. */
export async function startPortkey(port: number): Promise<PortkeyProcess> {
  const entry = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js');
  const child: ChildProcess = spawn(process.execPath, [entry, `--port=${port}`, '--headless'], {
    stdio: 'ignore',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  await waitForPort(port);
  return {
    port,
    cpuSeconds: () => processTreeCpuSeconds(child.pid!),
    headers: (baseUrl) => ({
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': baseUrl,
      authorization: 'Bearer bench',
    }),
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
