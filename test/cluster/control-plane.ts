import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { diesWithParent } from '../support/child-lifetime.ts';
import { freePort } from '../support/ports.ts';
import { writeControlPlaneCertificates } from './certificates.ts';
import { writeKubeconfig } from './kubeconfig.ts';

export interface ControlPlane {
  /** Admin (system:masters) kubeconfig. */
  kubeconfig: string;
  server: string;
  dir: string;
  binDir: string;
  /** The Gateway API standard-channel CRDs of the pinned release. */
  gatewayApiCrds: string;
  /** Runs the harness's own kubectl with the admin kubeconfig; throws with stderr on failure. */
  kubectl(args: string[], input?: string): string;
  /** kubectl that returns the exit code and output instead of throwing (for expected refusals). */
  tryKubectl(args: string[], input?: string): { code: number; stdout: string; stderr: string };
  /** A kubeconfig holding a fresh token of `serviceAccount` (proves what its RBAC allows). */
  serviceAccountKubeconfig(namespace: string, serviceAccount: string): string;
  /** Stops kube-apiserver and starts it again on the same port and etcd (a control-plane upgrade). */
  restartApiServer(): Promise<void>;
  /** One call to the API server as admin: JSON in, status and JSON out (for harness controllers). */
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; body: T }>;
  /** Takes the API server away (etcd and data stay) until startApiServer. */
  stopApiServer(): Promise<void>;
  startApiServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds (once, cached) and returns the folder with bin/ and gateway-api-crds/. */
export function controlPlaneBinaries(): string {
  const script = join(import.meta.dirname, 'build-binaries.sh');
  return execFileSync('bash', [script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 3_600_000,
  }).trim();
}

async function waitHealthy(
  url: string,
  dispatcher: Agent | undefined,
  what: string,
  child: ChildProcess,
  log: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}; see ${log}`);
    try {
      const res = await request(url, {
        ...(dispatcher ? { dispatcher } : {}),
        headersTimeout: 2000,
        bodyTimeout: 2000,
      });
      const body = await res.body.text();
      if (res.statusCode === 200) return;
      if (Date.now() > deadline)
        throw new Error(`${what} not healthy: ${res.statusCode} ${body.slice(0, 300)}`);
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what} not healthy after 60 s: ${(err as Error).message}; see ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startProcess(bin: string, args: string[], logFile: string): ChildProcess {
  const child = spawn(...diesWithParent(bin, args), { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface ControlPlaneOptions {
  /** kube-controller-manager controllers beyond the default set (a harness that runs pods adds `endpointslice`). */
  extraControllers?: string[];
  /** What the API server advertises for the `kubernetes` Service; needed where there is no default route. */
  advertiseAddress?: string;
}

/**
 * A real control plane on loopback, as controller-runtime's envtest runs one: etcd, kube-apiserver
 * (RBAC, service-account tokens) and kube-controller-manager (garbage collection, Deployments,
 * ReplicaSets, namespaces, PDBs). There is no scheduler or kubelet: pods are created but never run,
 * so tests stand in for them (see standInForPods).
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const cache = controlPlaneBinaries();
  const bin = join(cache, 'bin');
  const dir = await mkdtemp(join(tmpdir(), 'sluice-kube-'));
  writeControlPlaneCertificates(dir);
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcd = startProcess(
    join(bin, 'etcd'),
    [
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls',
      `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster',
      `default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level',
      'warn',
    ],
    join(dir, 'etcd.log'),
  );
  await waitHealthy(`http://127.0.0.1:${etcdClient}/health`, undefined, 'etcd', etcd, join(dir, 'etcd.log'));

  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeKubeconfig(kubeconfig, server, join(dir, 'ca.crt'), {
    clientCertificate: join(dir, 'admin.crt'),
    clientKey: join(dir, 'admin.key'),
  });
  // kube-controller-manager runs as admin: without per-controller service-account credentials its
  // own user lacks rights some controllers need (PDB status, for one).
  const kcmKubeconfig = kubeconfig;
  const adminAgent = new Agent({
    connect: {
      ca: readFileSync(join(dir, 'ca.crt')),
      cert: readFileSync(join(dir, 'admin.crt')),
      key: readFileSync(join(dir, 'admin.key')),
    },
  });

  let apiserver: ChildProcess | undefined;
  const startApiServer = async () => {
    apiserver = startProcess(
      join(bin, 'kube-apiserver'),
      [
        `--etcd-servers=http://127.0.0.1:${etcdClient}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
        `--client-ca-file=${join(dir, 'ca.crt')}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        ...(options.advertiseAddress ? [`--advertise-address=${options.advertiseAddress}`] : []),
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        '--disable-admission-plugins=ServiceAccount',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        '--v=1',
      ],
      join(dir, 'kube-apiserver.log'),
    );
    await waitHealthy(
      `${server}/readyz`,
      adminAgent,
      'kube-apiserver',
      apiserver,
      join(dir, 'kube-apiserver.log'),
    );
  };
  await startApiServer();

  const kcm = startProcess(
    join(bin, 'kube-controller-manager'),
    [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      '--leader-elect=false',
      '--secure-port=0',
      `--controllers=${['deployment', 'replicaset', 'garbagecollector', 'namespace', 'serviceaccount', 'disruption', ...(options.extraControllers ?? [])].join(',')}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      '--v=1',
    ],
    join(dir, 'kube-controller-manager.log'),
  );

  const run = (args: string[], input?: string) =>
    spawnSyncKubectl(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], input);
  const plane: ControlPlane = {
    kubeconfig,
    server,
    dir,
    binDir: bin,
    gatewayApiCrds: join(cache, 'gateway-api-crds'),
    kubectl(args, input) {
      const r = run(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    tryKubectl: run,
    async api(method, path, body, contentType = 'application/json') {
      const res = await request(`${server}${path}`, {
        method: method as 'GET',
        dispatcher: adminAgent,
        headers: body === undefined ? {} : { 'content-type': contentType },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      const text = await res.body.text();
      return { status: res.statusCode, body: (text ? JSON.parse(text) : undefined) as never };
    },
    serviceAccountKubeconfig(namespace, serviceAccount) {
      const token = plane
        .kubectl(['create', 'token', serviceAccount, '-n', namespace, '--duration=2h'])
        .trim();
      const path = join(dir, `${namespace}.${serviceAccount}.kubeconfig`);
      writeKubeconfig(path, server, join(dir, 'ca.crt'), { token });
      return path;
    },
    async restartApiServer() {
      await stopProcess(apiserver);
      await startApiServer();
    },
    stopApiServer: () => stopProcess(apiserver),
    startApiServer,
    async stop() {
      await stopProcess(kcm);
      await stopProcess(apiserver);
      await stopProcess(etcd);
      await adminAgent.close();
      if (!process.env.SLUICE_KEEP_CLUSTER) await rm(dir, { recursive: true, force: true });
    },
  };
  return plane;
}

function spawnSyncKubectl(
  bin: string,
  args: string[],
  input?: string,
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
