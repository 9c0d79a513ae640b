import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU a process and all its descendants have used so far (user + system, from /proc/<pid>/stat), in
 * seconds. Descendants count because nginx serves from a worker its master forked; a target's cost
 * is what its whole process tree burns, which stays comparable when the 2 cores are shared.
 */
export async function processTreeCpuSeconds(pid: number): Promise<number> {
  let ticks = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    try {
      // Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s, counted after the command name.
      const stat = await readFile(`/proc/${next}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const task of await readdir(`/proc/${next}/task`)) {
        const children = await readFile(`/proc/${next}/task/${task}/children`, 'utf8');
        for (const child of children.split(' ')) if (child.trim()) pending.push(Number(child));
      }
    } catch {
      // The process ended between listing and reading: it has nothing more to count.
    }
  }
  return ticks / 100;
}
