import { execFileSync } from 'node:child_process';

/**
 * The addresses of a harness that runs inside a network namespace of its own (see
 * conformance/run.ts): everything here is only ever added inside that namespace, never on the host.
 *
 * - `HOST_ADDRESS` is the harness namespace's own address: the API server advertises it, and the
 *   proxies' connections to pods leave from it.
 * - `LOAD_BALANCER_RANGE` is routed locally (the "AnyIP" local route), so every address in it can be
 *   bound and dialled without being assigned: the stand-in load balancer hands them to Services.
 * - Pods get addresses from `POD_RANGE`, each in a network namespace of its own joined to the harness by
 *   a veth pair, so unmodified servers that listen on all interfaces (echo-basic on :3000) run side
 *   by side.
 */
export const HOST_ADDRESS = '10.245.255.1';
export const LOAD_BALANCER_PREFIX = '10.245.0.';
const LOAD_BALANCER_RANGE = '10.245.0.0/24';
const POD_PREFIX = '10.244.';

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Brings up the harness namespace's loopback, its own address and the load-balancer range. */
export function setUpHarnessNetwork(): void {
  ip(['link', 'set', 'lo', 'up']);
  ip(['addr', 'add', `${HOST_ADDRESS}/32`, 'dev', 'lo']);
  ip(['route', 'add', 'local', LOAD_BALANCER_RANGE, 'dev', 'lo', 'table', 'local']);
}

export interface PodNetwork {
  /** The pod's address, reachable from the harness namespace. */
  address: string;
  /** `nsenter` arguments that run a command inside the pod's namespace. */
  enter: string[];
  remove(): void;
}

let nextPod = 2;

/** Pod namespaces of harnesses that were killed before they could remove them (their pid is gone). */
export function removeLeftoverPodNetworks(): void {
  for (const line of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const pid = /^sluice-(\d+)-pod-\d+$/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) ip(['netns', 'del', name]);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A network namespace for one pod: loopback, one address on a veth pair, a route back to the harness. */
export function createPodNetwork(): PodNetwork {
  const n = nextPod++;
  const address = `${POD_PREFIX}${1 + (n >> 8)}.${n & 255}`;
  // The harness's pid keeps two harnesses on one machine (and a crashed one's leftovers) apart.
  const netns = `sluice-${process.pid}-pod-${n}`;
  const hostSide = `sp${n}`;
  ip(['netns', 'add', netns]);
  try {
    ip(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    ip(['-n', netns, 'link', 'set', 'lo', 'up']);
    ip(['-n', netns, 'addr', 'add', `${address}/32`, 'dev', 'eth0']);
    ip(['-n', netns, 'link', 'set', 'eth0', 'up']);
    ip(['-n', netns, 'route', 'add', 'default', 'dev', 'eth0']);
    ip(['link', 'set', hostSide, 'up']);
    ip(['route', 'add', `${address}/32`, 'dev', hostSide, 'src', HOST_ADDRESS]);
  } catch (err) {
    ip(['netns', 'del', netns]);
    throw err;
  }
  return {
    address,
    enter: ['nsenter', `--net=/run/netns/${netns}`, '--'],
    // Deleting the namespace takes its end of the veth pair, and with it the harness's end and route.
    remove: () => ip(['netns', 'del', netns]),
  };
}
