import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitForPort } from '../load/wait-for-port.ts';

const root = join(import.meta.dirname, '..', '..');

export interface FakeLlmProcess {
  port: number;
  stop(): Promise<void>;
}

/** The fake LLM provider as its own process, so it does not share an event loop with anything measured. */
export async function startFakeLlm(port: number, args: string[] = []): Promise<FakeLlmProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'tools/fake-llm/main.ts'), '--port', String(port), '--name', 'bench', ...args],
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return {
    port,
    stop: async () => {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
