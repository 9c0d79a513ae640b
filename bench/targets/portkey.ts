import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { type TargetProcess, targetProcess } from '../load/target-process.ts';

export interface PortkeyProcess extends TargetProcess {
  /** Headers that make Portkey forward to the given OpenAI-compatible base URL. */
  headers(baseUrl: string): Record<string, string>;
}

/** The Portkey gateway (the Node.js peer), headless, in its own process. */
export async function startPortkey(port: number): Promise<PortkeyProcess> {
  const entry = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js');
  const child: ChildProcess = spawn(process.execPath, [entry, `--port=${port}`, '--headless'], {
    stdio: 'ignore',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  return {
    ...(await targetProcess(child, port, 'SIGKILL')),
    headers: (baseUrl) => ({
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': baseUrl,
      authorization: 'Bearer bench',
    }),
  };
}
