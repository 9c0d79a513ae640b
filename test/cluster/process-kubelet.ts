import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { request } from 'undici';
import { diesWithParent } from '../support/child-lifetime.ts';
import type { ControlPlane } from './control-plane.ts';
import { createPodNetwork, type PodNetwork } from './pod-network.ts';

/** What a pod's container runs instead of its image: a local program, and where its network lives. */
export interface ContainerProgram {
  command: string;
  args: string[];
  /** Extra environment on top of the container's own (resolved) env. */
  env?: Record<string, string>;
  /**
   * The port that must accept connections before the container counts as ready, when it declares no
   * readiness probe (none: running is enough).
   */
  readyPort?: number;
}

export interface ImageRunner {
  /** Whether this runner handles the image. */
  matches(image: string): boolean;
  /**
   * `own`: the pod gets a network namespace and address of its own. `harness`: it runs beside the
   * harness on an address the runner chooses (a Gateway proxy on its load-balancer address).
   */
  network: 'own' | 'harness';
  /** The pod's address when network is `harness`; undefined: not yet known, try again later. */
  address?(pod: Pod): string | undefined;
  /** `env` is the container's environment, resolved; `files` maps its volume mounts to local files. */
  program(
    pod: Pod,
    container: Container,
    env: Record<string, string>,
    files: MountedFiles,
  ): Promise<ContainerProgram>;
}

/** The container paths of mounted volumes, rewritten to where the kubelet wrote their files. */
export interface MountedFiles {
  rewrite(value: string): string;
}

type EnvVar = {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
    configMapKeyRef?: { name: string; key: string };
  };
};

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { containerPort: number; protocol?: string; name?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: {
    httpGet?: { path?: string; port: number | string };
    tcpSocket?: { port: number | string };
  };
}

type KeyItems = { key: string; path: string }[];
type Volume = {
  name: string;
  secret?: { secretName: string; items?: KeyItems };
  configMap?: { name: string; items?: KeyItems };
};

export interface Pod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
  };
  spec: {
    nodeName?: string;
    serviceAccountName?: string;
    containers: Container[];
    volumes?: Volume[];
  };
  status?: { phase?: string };
}

const NODE = 'process-node';
const POLL_MS = 250;
const RESTART_BACKOFF_MS = 1000;

interface RunningContainer {
  container: Container;
  program: ContainerProgram;
  child?: ChildProcess;
  ready: boolean;
  restarts: number;
  startedAt: string;
}

interface RunningPod {
  uid: string;
  namespace: string;
  name: string;
  address: string;
  network?: PodNetwork;
  containers: RunningContainer[];
  /** The status last written, so an unchanged pod costs no API call. */
  reported: string;
  stopping: boolean;
}

/**
 * A kubelet for a control plane without nodes: it registers one Node, binds every unscheduled pod to
 * it and runs each container as a local process chosen by its image (see ImageRunner) with the pod's
 * environment (fieldRef, Secret and ConfigMap references resolved) and its Secret and ConfigMap
 * volumes written to files. A pod is Ready once each container's port accepts connections; a process
 * that exits is restarted; a pod being deleted has its processes stopped, then is removed. Pod
 * addresses are real (see pod-network.ts), so kube-controller-manager's EndpointSlice controller
 * publishes the endpoints a Gateway's proxy dials.
 */
export class ProcessKubelet {
  readonly #cp: ControlPlane;
  readonly #runners: ImageRunner[];
  readonly #dir: string;
  readonly #pods = new Map<string, RunningPod>();
  /** Pods that failed to start, with the reason, so a bad pod is reported once instead of retried hot. */
  readonly #failed = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  /** The sync pass in progress: close() waits for it, or a pod it is launching would start after. */
  #ticking: Promise<void> | undefined;
  #closed = false;

  constructor(cp: ControlPlane, runners: ImageRunner[], dir: string) {
    this.#cp = cp;
    this.#runners = runners;
    this.#dir = dir;
  }

  async start(): Promise<void> {
    await this.#registerNode();
    this.#timer = setInterval(() => {
      if (this.#ticking || this.#closed) return;
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
      });
    }, POLL_MS);
  }

  async #registerNode(): Promise<void> {
    const created = await this.#cp.api('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
    });
    if (created.status !== 201 && created.status !== 409)
      throw new Error(`registering node ${NODE}: ${created.status} ${JSON.stringify(created.body)}`);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await this.#cp.api(
      'PATCH',
      `/api/v1/nodes/${NODE}/status`,
      {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              lastHeartbeatTime: now,
              lastTransitionTime: now,
            },
          ],
        },
      },
      'application/merge-patch+json',
    );
  }

  async #tick(): Promise<void> {
    try {
      const list = await this.#cp.api<{ items: Pod[] }>('GET', '/api/v1/pods');
      if (list.status !== 200) return;
      const seen = new Set<string>();
      for (const pod of list.body.items) {
        if (this.#closed) return;
        seen.add(pod.metadata.uid);
        await this.#sync(pod).catch((err: Error) => this.#fail(pod, err.message));
      }
      // Pods deleted outright (grace 0, or a namespace removed): stop what still runs.
      for (const [uid, running] of this.#pods) if (!seen.has(uid)) await this.#stop(running);
    } catch {
      // The API server restarting: the next tick tries again.
    }
  }

  async #sync(pod: Pod): Promise<void> {
    const { uid, namespace, name } = pod.metadata;
    const running = this.#pods.get(uid);
    if (pod.metadata.deletionTimestamp) {
      if (running) await this.#stop(running, pod.metadata.deletionGracePeriodSeconds);
      await this.#cp.api('DELETE', `/api/v1/namespaces/${namespace}/pods/${name}`, {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
      return;
    }
    if (!pod.spec.nodeName) {
      await this.#cp.api('POST', `/api/v1/namespaces/${namespace}/pods/${name}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name },
        target: { apiVersion: 'v1', kind: 'Node', name: NODE },
      });
      return;
    }
    if (pod.spec.nodeName !== NODE || this.#failed.has(uid)) return;
    const current = running ?? (await this.#launch(pod));
    if (!current) return;
    for (const c of current.containers) if (!c.ready) c.ready = await this.#probe(current, c);
    await this.#report(current);
  }

  /**
   * Starts every container of a pod; undefined when it cannot start yet (its runner has no address
   * for it, or a Secret or ConfigMap it reads does not exist yet: a kubelet waits for those too).
   */
  async #launch(pod: Pod): Promise<RunningPod | undefined> {
    const runners = pod.spec.containers.map((c) => {
      const runner = this.#runners.find((r) => r.matches(c.image));
      if (!runner) throw new Error(`no local program for image ${c.image}`);
      return runner;
    });
    const podDir = join(this.#dir, `${pod.metadata.namespace}.${pod.metadata.name}`);
    const files = await this.#writeVolumes(pod, podDir);
    if (!files) return undefined;
    const harnessRunner = runners.find((r) => r.network === 'harness');
    const address = harnessRunner ? harnessRunner.address?.(pod) : undefined;
    if (harnessRunner && !address) return undefined;
    const network = harnessRunner ? undefined : createPodNetwork();
    const running: RunningPod = {
      uid: pod.metadata.uid,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      address: address ?? network!.address,
      ...(network ? { network } : {}),
      containers: [],
      reported: '',
      stopping: false,
    };
    const programs: ContainerProgram[] = [];
    for (const [i, container] of pod.spec.containers.entries()) {
      const env = await this.#resolveEnv(pod, container, running.address, files);
      if (!env) {
        network?.remove();
        return undefined;
      }
      const program = await runners[i]!.program(pod, container, env, files);
      programs.push({ ...program, env: { ...env, ...program.env } });
    }
    if (this.#closed) {
      network?.remove();
      return undefined;
    }
    this.#pods.set(running.uid, running);
    for (const [i, container] of pod.spec.containers.entries()) {
      const entry: RunningContainer = {
        container,
        program: programs[i]!,
        ready: false,
        restarts: 0,
        startedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      running.containers.push(entry);
      this.#spawn(running, entry, join(podDir, `${container.name}.log`));
    }
    return running;
  }

  #spawn(pod: RunningPod, entry: RunningContainer, logFile: string): void {
    const prefix = pod.network?.enter ?? [];
    const [command, ...args] = [...prefix, entry.program.command, ...entry.program.args];
    const child = spawn(...diesWithParent(command!, args), {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...entry.program.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(logFile, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    entry.child = child;
    child.once('exit', () => {
      entry.ready = false;
      if (pod.stopping || this.#closed) return;
      entry.restarts++;
      setTimeout(() => {
        if (!pod.stopping && !this.#closed) this.#spawn(pod, entry, logFile);
      }, RESTART_BACKOFF_MS).unref();
    });
  }

  async #probe(pod: RunningPod, entry: RunningContainer): Promise<boolean> {
    const child = entry.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return false;
    const probe = entry.container.readinessProbe;
    const portOf = (port: number | string) =>
      typeof port === 'number' ? port : entry.container.ports?.find((p) => p.name === port)?.containerPort;
    if (probe?.httpGet) {
      const port = portOf(probe.httpGet.port);
      try {
        const res = await request(`http://${pod.address}:${port}${probe.httpGet.path ?? '/'}`, {
          headersTimeout: 1000,
          bodyTimeout: 1000,
        });
        await res.body.dump();
        return res.statusCode >= 200 && res.statusCode < 400;
      } catch {
        return false;
      }
    }
    const port = probe?.tcpSocket ? portOf(probe.tcpSocket.port) : entry.program.readyPort;
    if (port === undefined) return true;
    return new Promise((resolve) => {
      const socket = connect({ host: pod.address, port, timeout: 1000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
  }

  async #report(pod: RunningPod): Promise<void> {
    const ready = pod.containers.every((c) => c.ready);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status = {
      phase: 'Running',
      hostIP: pod.address,
      podIP: pod.address,
      podIPs: [{ ip: pod.address }],
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
        type,
        status: type === 'PodScheduled' || type === 'Initialized' || ready ? 'True' : 'False',
      })),
      containerStatuses: pod.containers.map((c) => ({
        name: c.container.name,
        image: c.container.image,
        imageID: '',
        ready: c.ready,
        started: c.child?.exitCode === null,
        restartCount: c.restarts,
        state: { running: { startedAt: c.startedAt } },
      })),
    };
    const key = JSON.stringify(status);
    if (key === pod.reported) return;
    const withTimes = {
      ...status,
      startTime: pod.containers[0]?.startedAt ?? now,
      conditions: status.conditions.map((c) => ({ ...c, lastTransitionTime: now })),
    };
    const res = await this.#cp.api(
      'PATCH',
      `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/status`,
      { status: withTimes },
      'application/merge-patch+json',
    );
    if (res.status === 200) pod.reported = key;
  }

  /** Stops a pod's processes (SIGTERM, then SIGKILL after its grace period, at most 10 s here). */
  async #stop(pod: RunningPod, graceSeconds = 30): Promise<void> {
    if (pod.stopping) return;
    pod.stopping = true;
    await Promise.all(
      pod.containers.map(async (c) => {
        const child = c.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), Math.min(graceSeconds, 10) * 1000);
        await exited;
        clearTimeout(timer);
      }),
    );
    pod.network?.remove();
    this.#pods.delete(pod.uid);
  }

  async #fail(pod: Pod, reason: string): Promise<void> {
    if (this.#failed.has(pod.metadata.uid)) return;
    this.#failed.set(pod.metadata.uid, reason);
    await this.#cp.api(
      'PATCH',
      `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
      { status: { phase: 'Failed', reason: 'ProcessKubelet', message: reason } },
      'application/merge-patch+json',
    );
  }

  async #resolveEnv(
    pod: Pod,
    container: Container,
    address: string,
    files: MountedFiles,
  ): Promise<Record<string, string> | undefined> {
    const fields: Record<string, string> = {
      'metadata.name': pod.metadata.name,
      'metadata.namespace': pod.metadata.namespace,
      'metadata.uid': pod.metadata.uid,
      'spec.nodeName': NODE,
      'spec.serviceAccountName': pod.spec.serviceAccountName ?? 'default',
      'status.podIP': address,
      'status.hostIP': address,
    };
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const from = e.valueFrom;
      let value = e.value;
      if (from?.fieldRef) value = fields[from.fieldRef.fieldPath];
      else if (from?.secretKeyRef || from?.configMapKeyRef) {
        const ref = (from.secretKeyRef ?? from.configMapKeyRef)!;
        const data = await this.#keyOf(
          from.secretKeyRef ? 'secrets' : 'configmaps',
          pod.metadata.namespace,
          ref.name,
        );
        if (!data) return undefined;
        value = data[ref.key];
      }
      if (value === undefined) throw new Error(`env ${e.name} of ${container.name} cannot be resolved`);
      env[e.name] = files.rewrite(value);
    }
    return env;
  }

  /** A Secret's (base64-decoded) or ConfigMap's keys as text; undefined while it does not exist. */
  async #keyOf(
    plural: 'secrets' | 'configmaps',
    namespace: string,
    name: string,
  ): Promise<Record<string, string> | undefined> {
    const res = await this.#cp.api<{ data?: Record<string, string> }>(
      'GET',
      `/api/v1/namespaces/${namespace}/${plural}/${name}`,
    );
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`reading ${plural} ${namespace}/${name}: ${res.status}`);
    const data = res.body.data ?? {};
    if (plural === 'configmaps') return data;
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  }

  /** Writes the pod's Secret and ConfigMap volumes; undefined while one of them does not exist. */
  async #writeVolumes(pod: Pod, podDir: string): Promise<MountedFiles | undefined> {
    const mounts: [string, string][] = [];
    for (const volume of pod.spec.volumes ?? []) {
      const source = volume.secret
        ? { plural: 'secrets' as const, name: volume.secret.secretName, items: volume.secret.items }
        : volume.configMap
          ? { plural: 'configmaps' as const, name: volume.configMap.name, items: volume.configMap.items }
          : undefined;
      if (!source) continue;
      const dir = join(podDir, 'volumes', volume.name);
      const data = await this.#keyOf(source.plural, pod.metadata.namespace, source.name);
      if (!data) return undefined;
      const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
      for (const item of items) {
        const value = data[item.key];
        if (value === undefined) throw new Error(`volume ${volume.name}: key ${item.key} missing`);
        const file = join(dir, item.path);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, value);
      }
      for (const c of pod.spec.containers)
        for (const m of c.volumeMounts ?? []) if (m.name === volume.name) mounts.push([m.mountPath, dir]);
    }
    mkdirSync(podDir, { recursive: true });
    // Longest mount path first, so /etc/a/b is rewritten before /etc/a.
    mounts.sort((a, b) => b[0].length - a[0].length);
    return {
      rewrite: (value) => {
        for (const [mountPath, dir] of mounts)
          if (value === mountPath || value.startsWith(`${mountPath}/`))
            return dir + value.slice(mountPath.length);
        return value;
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#ticking;
    await Promise.all([...this.#pods.values()].map((p) => this.#stop(p, 2)));
  }
}
