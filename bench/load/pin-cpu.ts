import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Pins a process and all its threads to the CPUs in `list` (taskset syntax, e.g. "0" or "1"), so a
 * load generator and the target it measures do not take each other's core. Returns false (and pins
 * nothing) on a machine with one CPU or without taskset.
 */
export function pinToCpus(pid: number, list: string): boolean {
  if (availableParallelism() < 2) return false;
  try {
    execFileSync('taskset', ['-a', '-c', '-p', list, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
