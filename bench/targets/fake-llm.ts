import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type TargetProcess, targetProcess } from '../load/target-process.ts';

const root = join(import.meta.dirname, '..', '..');

/** The fake LLM provider as its own process, so it does not share an event loop with anything measured. */
export async function startFakeLlm(port: number, args: string[] = []): Promise<TargetProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'tools/fake-llm/main.ts'), '--port', String(port), '--name', 'bench', ...args],
    { stdio: 'ignore' },
  );
  return targetProcess(child, port, 'SIGKILL');
}
