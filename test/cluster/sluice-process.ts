import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';

export interface SluiceProcess {
  child: ChildProcess;
  adminPort: number;
  /** Everything it logged so far (pino JSON lines), for assertions and for failure messages. */
  output(): string;
  /** SIGTERM and wait for exit; SIGKILL with `crash`. */
  stop(crash?: boolean): Promise<void>;
}

const CLI = join(import.meta.dirname, '..', '..', 'cli', 'src', 'main.ts');

/** Runs `sluice <args>` as its own process (as in its pod) and waits until its /readyz says ready. */
export async function startSluice(
  args: string[],
  adminPort: number,
  waitReady = true,
): Promise<SluiceProcess> {
  const child = spawn(
    process.execPath,
    [CLI, ...args, '--admin-port', String(adminPort), '--bind-address', '127.0.0.1'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const proc: SluiceProcess = {
    child,
    adminPort,
    output: () => out,
    async stop(crash = false) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(crash ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
  if (waitReady)
    await waitFor(
      () => readyz(adminPort),
      `sluice ${args[0]} ready`,
      30_000,
      () => out.slice(-3000),
    );
  return proc;
}

export async function readyz(adminPort: number): Promise<boolean> {
  try {
    const res = await request(`http://127.0.0.1:${adminPort}/readyz`);
    await res.body.dump();
    return res.statusCode === 200;
  } catch {
    return false;
  }
}

/** Polls `check` (every 50 ms by default) until it returns true, or fails naming what it waited for. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
  context: () => string = () => '',
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
