/**
 * Operator at scale on the real test control plane: 1,000 HTTPRoutes over 100 AIBackends on one
 * Gateway. Reports the time from operator start to every route Accepted, every AIBackend Accepted,
 * the proxy config holding all routes and the Gateway Programmed, then the operator's memory, and the
 * time for one more route to be reflected. Run alone: `npm run bench:operator` (BENCH_ROUTES, BENCH_BACKENDS).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { unpackConfig } from '../../proxy/src/config/delivery.ts';
import { startControlPlane } from '../../test/cluster/control-plane.ts';
import { installSluice } from '../../test/cluster/install.ts';
import { startSluice, waitFor } from '../../test/cluster/sluice-process.ts';
import { standInForPods } from '../../test/cluster/stand-in-pods.ts';
import { freePort } from '../../test/support/ports.ts';

export interface OperatorScaleResult {
  routes: number;
  backends: number;
  applySeconds: number;
  allAcceptedSeconds: number;
  programmedSeconds: number;
  oneMoreRouteMs: number;
  operatorRssMiB: number;
  operatorHeapMiB: number;
}

const NS = 'scale';

function objects(routes: number, backends: number): string {
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
  for (let b = 0; b < backends; b++)
    docs.push({
      apiVersion: 'sluice.dev/v1alpha1',
      kind: 'AIBackend',
      metadata: { name: `backend-${b}`, namespace: NS },
      spec: {
        targets: [{ name: 'primary', provider: 'OpenAI', endpoint: { url: `http://127.0.0.1:9/${b}/v1` } }],
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
  return docs.map((d) => stringify(d)).join('---\n');
}

export async function measureOperatorScale(routes = 1000, backends = 100): Promise<OperatorScaleResult> {
  const cp = await startControlPlane();
  try {
    installSluice(cp);
    const file = join(cp.dir, 'scale.yaml');
    writeFileSync(file, objects(routes, backends));
    const applyStart = performance.now();
    cp.kubectl(['apply', '--server-side', '-f', file]);
    const applySeconds = (performance.now() - applyStart) / 1000;
    const get = (args: string[]) => JSON.parse(cp.kubectl(['get', ...args, '-o', 'json']));
    const admin = await freePort();
    const started = performance.now();
    const operator = await startSluice(
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
    try {
      const accepted = (
        items: {
          status?: {
            parents?: { conditions: { type: string; status: string }[] }[];
            conditions?: { type: string; status: string }[];
          };
        }[],
      ) =>
        items.filter((o) =>
          (o.status?.parents?.[0]?.conditions ?? o.status?.conditions ?? []).some(
            (c) => c.type === 'Accepted' && c.status === 'True',
          ),
        ).length;
      let podsMarked = false;
      await waitFor(
        () => {
          if (!podsMarked && get(['pods', '-n', NS]).items.length > 0)
            podsMarked = standInForPods(cp, NS, 'app.kubernetes.io/managed-by=sluice') > 0;
          return (
            accepted(get(['httproutes', '-n', NS]).items) === routes &&
            accepted(get(['aibackends', '-n', NS]).items) === backends
          );
        },
        'every route and AIBackend Accepted',
        600_000,
        () => operator.output().slice(-2000),
        500,
      );
      const allAcceptedSeconds = (performance.now() - started) / 1000;
      await waitFor(
        () => {
          const gw = get(['gateway', 'gw', '-n', NS]);
          const config = unpackConfig(get(['configmap', 'sluice-gw-config', '-n', NS]).binaryData) as {
            listeners: { virtualHosts: { routes: unknown[] }[] }[];
          };
          const n = config.listeners[0]?.virtualHosts.reduce((s, v) => s + v.routes.length, 0) ?? 0;
          return (
            n === routes &&
            gw.status?.conditions?.some(
              (c: { type: string; status: string }) => c.type === 'Programmed' && c.status === 'True',
            )
          );
        },
        'the Gateway Programmed with every route in its config',
        600_000,
        () => operator.output().slice(-2000),
        200,
      );
      const programmedSeconds = (performance.now() - started) / 1000;
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
        () => accepted([get(['httproute', 'one-more', '-n', NS])]) === 1,
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
      return {
        routes,
        backends,
        applySeconds,
        allAcceptedSeconds,
        programmedSeconds,
        oneMoreRouteMs,
        operatorRssMiB: rss,
        operatorHeapMiB: heap,
      };
    } finally {
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
  );
  process.stdout.write(
    `${r.routes} HTTPRoutes + ${r.backends} AIBackends: kubectl apply ${r.applySeconds.toFixed(1)} s; from operator start: all Accepted ${r.allAcceptedSeconds.toFixed(1)} s, Gateway Programmed with every route ${r.programmedSeconds.toFixed(1)} s; one more route Accepted in ${r.oneMoreRouteMs.toFixed(0)} ms (incl. kubectl); operator RSS ${r.operatorRssMiB.toFixed(0)} MiB, heap ${r.operatorHeapMiB.toFixed(0)} MiB\n`,
  );
}
