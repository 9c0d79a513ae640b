/**
 * Operator at scale on the real test control plane: 1,000 HTTPRoutes over 100 AIBackends on one
 * Gateway. Reports the time from operator start to every route Accepted, every AIBackend Accepted,
 * the proxy config holding all routes and the Gateway Programmed, then the operator's memory, and the
 * time for one more route to be reflected. Run alone: `npm run bench:operator` (BENCH_ROUTES, BENCH_BACKENDS,
 * BENCH_SECRETS: that many 8 KiB Secrets no spec references, in another namespace, as a cluster holds
 * for its other workloads; with it, every AIBackend also reads its key from a Secret of its own).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { Informer, type WatchedObject } from '../../lib/src/kubernetes/informer.ts';
import { loadKubeConfig } from '../../lib/src/kubernetes/kube-config.ts';
import { KubeRest } from '../../lib/src/kubernetes/kube-rest.ts';
import { unpackConfig } from '../../proxy/src/config/delivery.ts';
import { startControlPlane } from '../../test/cluster/control-plane.ts';
import { installSluice } from '../../test/cluster/install.ts';
import { startSluice, waitFor } from '../../test/cluster/sluice-process.ts';
import { standInForPods } from '../../test/cluster/stand-in-pods.ts';
import { freePort } from '../../test/support/ports.ts';
import { processTreeCpuSeconds } from '../load/process-cpu.ts';

export interface OperatorScaleResult {
  routes: number;
  backends: number;
  /** Secrets in the cluster that no spec references. */
  secrets: number;
  applySeconds: number;
  /** From operator start to the first route Accepted: start, lists, translation, first write. */
  firstAcceptedSeconds: number;
  allAcceptedSeconds: number;
  programmedSeconds: number;
  oneMoreRouteMs: number;
  /** CPU the operator used from its start to every route Accepted (user + system). */
  operatorCpuSeconds: number;
  operatorRssMiB: number;
  operatorHeapMiB: number;
  /** Status writes the operator made by then, over all kinds: one per route and AIBackend is the least. */
  statusWrites: number;
  /**
   * The API server's own floor, with the operator stopped: one status write per route, as many in
   * flight as the operator keeps, and nothing else running. "All Accepted" cannot beat it.
   */
  bareStatusWritesSeconds: number;
}

/** Rewrites every route's status (a changed message, so each is a real write), 16 in flight. */
async function bareStatusWrites(rest: KubeRest, routes: string[]): Promise<number> {
  const started = performance.now();
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const queue = [...routes];
  const writer = async () => {
    for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
      const condition = (type: string) => ({
        type,
        status: 'True',
        reason: type,
        message: 'rewritten by the bench',
        lastTransitionTime: now,
        observedGeneration: 1,
      });
      await rest.mergePatch(`/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes/${name}/status`, {
        status: {
          parents: [
            {
              parentRef: { name: 'gw' },
              controllerName: 'sluice.dev/gateway-controller',
              conditions: [condition('Accepted'), condition('ResolvedRefs')],
            },
          ],
        },
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, writer));
  return (performance.now() - started) / 1000;
}

const NS = 'scale';

interface WithStatus extends WatchedObject {
  status?: {
    parents?: { conditions: { type: string; status: string }[] }[];
    conditions?: { type: string; status: string }[];
  };
}

function isAccepted(o: WithStatus): boolean {
  return (o.status?.parents?.[0]?.conditions ?? o.status?.conditions ?? []).some(
    (c) => c.type === 'Accepted' && c.status === 'True',
  );
}

/**
 * The objects of a collection as a watch keeps them. Polling with `kubectl get` of a thousand objects
 * every half second took CPU from the operator and the API server on the two shared cores, and so
 * slowed what it measured.
 */
async function watched<T extends WithStatus>(
  rest: KubeRest,
  path: string,
): Promise<{ objects: Map<string, T>; stop(): Promise<void> }> {
  const objects = new Map<string, T>();
  const informer = new Informer<T>(rest, { path, what: { path }, logger: pino({ level: 'silent' }) });
  informer.on('add', (o) => objects.set(o.metadata.name, o));
  informer.on('update', (o) => objects.set(o.metadata.name, o));
  informer.on('delete', (o) => objects.delete(o.metadata.name));
  await informer.start();
  return { objects, stop: () => informer.stop() };
}

function acceptedCount(objects: Map<string, WithStatus>): number {
  let n = 0;
  for (const o of objects.values()) if (isAccepted(o)) n++;
  return n;
}

/** The objects as YAML files of at most 1,000 each: one kubectl apply of 10,000 outlasts its 60 s limit. */
function objectFiles(routes: number, backends: number, secrets: number): string[] {
  const docs: unknown[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'sluice' },
      spec: { controllerName: 'sluice.dev/gateway-controller' },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: NS },
      spec: { gatewayClassName: 'sluice', listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] },
    },
  ];
  if (secrets > 0) {
    docs.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other-workloads' } });
    for (let s = 0; s < secrets; s++)
      docs.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `unrelated-${s}`, namespace: 'other-workloads' },
        data: { 'tls.key': randomBytes(6 * 1024).toString('base64') },
      });
    for (let b = 0; b < backends; b++)
      docs.push({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `key-${b}`, namespace: NS },
        stringData: { 'api-key': `sk-${b}` },
      });
  }
  for (let b = 0; b < backends; b++)
    docs.push({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'AIBackend',
      metadata: { name: `backend-${b}`, namespace: NS },
      spec: {
        targets: [
          {
            name: 'primary',
            provider: 'OpenAI',
            endpoint: { url: `http://127.0.0.1:9/${b}/v1` },
            ...(secrets > 0 ? { credentialsRef: { name: `key-${b}`, key: 'api-key' } } : {}),
          },
        ],
        pricing: [{ model: 'gpt-4o-mini', inputPerMillion: 0.15, outputPerMillion: 0.6 }],
      },
    });
  for (let r = 0; r < routes; r++)
    docs.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${r}`, namespace: NS },
      spec: {
        parentRefs: [{ name: 'gw' }],
        hostnames: [`team-${r % 100}.example.com`],
        rules: [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: `/r${r}` },
                headers: [{ name: 'x-sluice-model', value: `model-${r}` }],
              },
            ],
            backendRefs: [{ group: 'sluice.dev', kind: 'AIBackend', name: `backend-${r % backends}` }],
          },
        ],
      },
    });
  const files: string[] = [];
  for (let i = 0; i < docs.length; i += 1000)
    files.push(
      docs
        .slice(i, i + 1000)
        .map((d) => stringify(d))
        .join('---\n'),
    );
  return files;
}

function operatorImageNodeOptions(): string {
  const dockerfile = readFileSync(join(import.meta.dirname, '../../Dockerfile'), 'utf8');
  const stage = dockerfile.slice(dockerfile.indexOf('AS operator'));
  return /^ENV NODE_OPTIONS=(.*)$/m.exec(stage.slice(0, stage.indexOf('\nFROM ')))?.[1] ?? '';
}

export async function measureOperatorScale(
  routes = 1000,
  backends = 100,
  secrets = 0,
): Promise<OperatorScaleResult> {
  const cp = await startControlPlane();
  try {
    installSluice(cp);
    const files = objectFiles(routes, backends, secrets).map((yaml, i) => {
      const file = join(cp.dir, `scale-${i}.yaml`);
      writeFileSync(file, yaml);
      return file;
    });
    const applyStart = performance.now();
    for (const file of files) cp.kubectl(['apply', '--server-side', '-f', file]);
    const applySeconds = (performance.now() - applyStart) / 1000;
    const admin = await freePort();
    // The operator starts as its image does: from a compile cache warmed beforehand and named in its
    // environment (so even the entry module is served from it)...
    const imageEnv = {
      NODE_COMPILE_CACHE: join(cp.dir, 'node-compile-cache'),
      // ...and with the Node options of its image (the operator stage of the Dockerfile).
      NODE_OPTIONS: operatorImageNodeOptions(),
    };
    execFileSync(process.execPath, [join(import.meta.dirname, '../../cli/src/warm-compile-cache.ts')], {
      env: { ...process.env, NODE_COMPILE_CACHE: imageEnv.NODE_COMPILE_CACHE },
    });
    // For the operator only: startSluice spawns at once, and later processes keep the bench's own.
    const saved = {
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE,
      NODE_OPTIONS: process.env.NODE_OPTIONS,
    };
    Object.assign(process.env, imageEnv);
    const started = performance.now();
    const starting = startSluice(
      [
        'operator',
        '--kubeconfig',
        cp.serviceAccountKubeconfig('sluice-system', 'sluice-operator'),
        '--proxy-replicas',
        '1',
        '--leader-elect',
        'false',
        '--log-level',
        'warn',
      ],
      admin,
    );
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const operator = await starting;
    const rest = new KubeRest(await loadKubeConfig(cp.kubeconfig));
    const routeObjects = await watched(
      rest,
      `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes`,
    );
    const backendObjects = await watched(rest, `/apis/sluice.dev/v1alpha1/namespaces/${NS}/aibackends`);
    const gateways = await watched(rest, `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/gateways`);
    const pods = await watched(rest, `/api/v1/namespaces/${NS}/pods`);
    const configMaps = await watched<WithStatus & { binaryData?: Record<string, string> }>(
      rest,
      `/api/v1/namespaces/${NS}/configmaps`,
    );
    /** Routes in the published proxy config, unpacked once per version of its ConfigMap. */
    let published = { version: '', routes: 0 };
    const publishedRoutes = () => {
      const cm = configMaps.objects.get('sluice-gw-config');
      if (!cm?.binaryData) return 0;
      if (cm.metadata.resourceVersion !== published.version) {
        const config = unpackConfig(cm.binaryData) as {
          listeners: { virtualHosts: { routes: unknown[] }[] }[];
        };
        published = {
          version: cm.metadata.resourceVersion ?? '',
          routes: config.listeners[0]?.virtualHosts.reduce((s, v) => s + v.routes.length, 0) ?? 0,
        };
      }
      return published.routes;
    };
    const programmed = () =>
      (gateways.objects.get('gw')?.status?.conditions ?? []).some(
        (c) => c.type === 'Programmed' && c.status === 'True',
      ) && publishedRoutes() === routes;
    try {
      let podsMarked = false;
      let firstAcceptedSeconds = 0;
      let allAcceptedSeconds = 0;
      let programmedSeconds = 0;
      let operatorCpuSeconds = 0;
      // Both measured from one loop: the Gateway may be Programmed before or after the last route is Accepted.
      await waitFor(
        async () => {
          // kubectl is a process start (a tenth of a second of CPU): run once the watch shows a pod.
          if (!podsMarked && pods.objects.size > 0)
            podsMarked = standInForPods(cp, NS, 'app.kubernetes.io/managed-by=sluice') > 0;
          const seconds = (performance.now() - started) / 1000;
          if (!firstAcceptedSeconds && acceptedCount(routeObjects.objects) > 0)
            firstAcceptedSeconds = seconds;
          if (
            !allAcceptedSeconds &&
            acceptedCount(routeObjects.objects) === routes &&
            acceptedCount(backendObjects.objects) === backends
          ) {
            allAcceptedSeconds = seconds;
            operatorCpuSeconds = await processTreeCpuSeconds(operator.child.pid!);
          }
          if (!programmedSeconds && programmed()) programmedSeconds = seconds;
          return allAcceptedSeconds > 0 && programmedSeconds > 0;
        },
        'every route and AIBackend Accepted, and the Gateway Programmed with every route in its config',
        600_000,
        () => operator.output().slice(-2000),
        50,
      );
      const extraStart = performance.now();
      cp.kubectl(
        ['apply', '-f', '-'],
        stringify({
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'one-more', namespace: NS },
          spec: {
            parentRefs: [{ name: 'gw' }],
            rules: [
              {
                matches: [{ path: { type: 'Exact', value: '/one-more' } }],
                backendRefs: [{ group: 'sluice.dev', kind: 'AIBackend', name: 'backend-0' }],
              },
            ],
          },
        }),
      );
      await waitFor(
        () => acceptedCount(routeObjects.objects) === routes + 1,
        'one more route',
        60_000,
        () => '',
        20,
      );
      const oneMoreRouteMs = performance.now() - extraStart;
      const rss =
        Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${operator.child.pid}/status`, 'utf8'))?.[1] ?? 0) /
        1024;
      const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
      const heap =
        Number(/^sluice_operator_nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? 0) / 2 ** 20;
      const statusWrites = [
        ...metrics.matchAll(/^sluice_operator_status_writes_total\{[^}]*\} (\S+)/gm),
      ].reduce((sum, m) => sum + Number(m[1]), 0);
      await operator.stop();
      const bareStatusWritesSeconds = await bareStatusWrites(rest, [...routeObjects.objects.keys()]);
      return {
        bareStatusWritesSeconds,
        routes,
        backends,
        secrets,
        applySeconds,
        firstAcceptedSeconds,
        allAcceptedSeconds,
        programmedSeconds,
        oneMoreRouteMs,
        operatorCpuSeconds,
        operatorRssMiB: rss,
        operatorHeapMiB: heap,
        statusWrites,
      };
    } finally {
      await Promise.all([routeObjects, backendObjects, gateways, configMaps, pods].map((w) => w.stop()));
      await operator.stop();
    }
  } finally {
    await cp.stop();
  }
}

if (import.meta.main) {
  const r = await measureOperatorScale(
    Number(process.env.BENCH_ROUTES ?? 1000),
    Number(process.env.BENCH_BACKENDS ?? 100),
    Number(process.env.BENCH_SECRETS ?? 0),
  );
  process.stdout.write(
    `${r.routes} HTTPRoutes + ${r.backends} AIBackends${r.secrets ? ` (keys in Secrets) + ${r.secrets} unreferenced 8 KiB Secrets` : ''}: kubectl apply ${r.applySeconds.toFixed(1)} s; from operator start: first route Accepted ${r.firstAcceptedSeconds.toFixed(1)} s, all Accepted ${r.allAcceptedSeconds.toFixed(1)} s (operator CPU ${r.operatorCpuSeconds.toFixed(1)} s), Gateway Programmed with every route ${r.programmedSeconds.toFixed(1)} s; one more route Accepted in ${r.oneMoreRouteMs.toFixed(0)} ms (incl. kubectl); operator RSS ${r.operatorRssMiB.toFixed(0)} MiB, heap ${r.operatorHeapMiB.toFixed(0)} MiB; ${r.statusWrites} status writes; the API server alone, operator stopped: ${r.routes + 1} route status writes (16 in flight) in ${r.bareStatusWritesSeconds.toFixed(1)} s\n`,
  );
}
