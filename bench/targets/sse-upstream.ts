import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type TargetProcess, targetProcess } from '../load/target-process.ts';

/**
 * The Go streaming upstream (sse-upstream/, built once into the cache): `tokens` chunks `delayMs`
 * apart after `ttftMs`, then usage and [DONE], for every POST /v1/chat/completions.
 */
export async function startSseUpstream(
  port: number,
  stream: { tokens: number; delayMs: number; ttftMs: number },
): Promise<TargetProcess> {
  const binary = execFileSync('bash', [join(import.meta.dirname, 'build-sse-upstream.sh')], {
    encoding: 'utf8',
  }).trim();
  const child: ChildProcess = spawn(
    binary,
    [
      '-listen',
      `127.0.0.1:${port}`,
      '-tokens',
      String(stream.tokens),
      '-delay',
      `${stream.delayMs}ms`,
      '-ttft',
      `${stream.ttftMs}ms`,
    ],
    { stdio: 'ignore' },
  );
  return targetProcess(child, port, 'SIGKILL');
}
