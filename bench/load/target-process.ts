import type { ChildProcess } from 'node:child_process';
import { processTreeCpuSeconds } from './process-cpu.ts';
import { waitForPort } from './wait-for-port.ts';

/** A bench target running as its own process: where it listens, what CPU it burns, how it stops. */
export interface TargetProcess {
  port: number;
  /** The spawned process (nginx's master, Sluice's primary with --workers): what scenarios pin to a CPU. */
  pid: number;
  /** CPU the process and its descendants have used so far (user + system), in seconds. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A spawned target once it accepts connections on `port`. stop() sends `signal` (each target's own
 * graceful or quick exit), waits for the exit, then runs `afterExit` (removing its temporary folder).
 */
export async function targetProcess(
  child: ChildProcess,
  port: number,
  signal: NodeJS.Signals,
  afterExit?: () => Promise<void>,
): Promise<TargetProcess> {
  await waitForPort(port);
  return {
    port,
    pid: child.pid!,
    cpuSeconds: () => processTreeCpuSeconds(child.pid!),
    stop: async () => {
      child.kill(signal);
      await new Promise((resolve) => child.once('exit', resolve));
      await afterExit?.();
    },
  };
}
