import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * The command line of a process that dies with the test process starting it: setpriv (util-linux)
 * sets the parent-death signal, which survives its exec of the command, so the pid, exit code and
 * signals stay the command's own. Without it, a test worker or harness killed on a timeout left its
 * etcd, API server and pod processes (echo-basic) running for later runs to trip over.
 */
export function diesWithParent(command: string, args: readonly string[]): [string, string[]] {
  if (!existsSync(SETPRIV)) return [command, [...args]];
  return [SETPRIV, ['--pdeathsig', 'KILL', command, ...args]];
}
