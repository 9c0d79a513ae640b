import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../cluster/sluice-process.ts';

/** Whether a process still runs (a zombie waiting for init to reap it has already died). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('diesWithParent', () => {
  it('takes the child down when the process that started it is killed outright', async () => {
    // A parent that starts `sleep` the way the harness starts etcd or a pod, reports its pid and waits.
    const parent = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { spawn } from 'node:child_process';
         import { diesWithParent } from ${JSON.stringify(new URL('./child-lifetime.ts', import.meta.url).href)};
         const child = spawn(...diesWithParent('sleep', ['300']), { stdio: 'ignore' });
         process.stdout.write(String(child.pid));
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => out.length > 0, 'the child started', 10_000);
    const child = Number(out);
    try {
      expect(running(child)).toBe(true);
      parent.kill('SIGKILL');
      await waitFor(() => !running(child), 'the child gone with its parent', 10_000);
    } finally {
      if (running(child)) process.kill(child, 'SIGKILL');
    }
  });
});
