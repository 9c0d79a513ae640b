import { describe, expect, it } from 'vitest';
import { autoWorkers } from './worker-count.ts';

const files = (contents: Record<string, string>) => (path: string) => contents[path];

describe('--workers auto', () => {
  it("follows the pod's CPU limit (cgroup quota, rounded up), never more than the CPUs there are", () => {
    expect(autoWorkers(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }), 16)).toBe(2);
    expect(autoWorkers(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' }), 16)).toBe(1);
    expect(autoWorkers(files({ '/sys/fs/cgroup/cpu.max': '800000 100000\n' }), 4)).toBe(4);
    expect(
      autoWorkers(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '300000\n',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
        }),
        16,
      ),
    ).toBe(3);
  });

  it('without a limit (max, -1, no cgroup files): every CPU', () => {
    expect(autoWorkers(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }), 8)).toBe(8);
    expect(
      autoWorkers(
        files({
          '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
          '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
        }),
        8,
      ),
    ).toBe(8);
    expect(autoWorkers(files({}), 8)).toBe(8);
  });
});
