import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

type Read = (path: string) => string | undefined;

const readIfThere: Read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * `--workers auto`: one worker per CPU this process may use. Node counts the CPUs it may be scheduled
 * on, which in a container is the node's, not the pod's CPU limit; the limit is the cgroup's CPU
 * quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded up.
 */
export function autoWorkers(read: Read = readIfThere, cpus = availableParallelism()): number {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  const quota = v2 ? v2[0] : read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim();
  const period = v2 ? v2[1] : read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim();
  const limit = Number(quota) / Number(period);
  if (!(limit > 0) || !Number.isFinite(limit)) return cpus;
  return Math.max(1, Math.min(cpus, Math.ceil(limit)));
}
