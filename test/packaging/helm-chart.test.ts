import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { helmBinary, renderPlainManifests } from '../../tools/manifests/render-plain-manifests.ts';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { REPO_ROOT } from '../cluster/install.ts';
import {
  applyKubernetesSample,
  SAMPLE_NAMESPACE,
  startInstalledOperator,
} from '../cluster/kubernetes-sample.ts';
import { type SluiceProcess, waitFor } from '../cluster/sluice-process.ts';
import { type RunningFake, startFake } from '../support/fake-providers.ts';
import { freePort } from '../support/ports.ts';

const CHART = join(REPO_ROOT, 'charts', 'sluice');
type Obj = {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: unknown;
};

function helm(args: string[], kubeconfig?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(helmBinary(), [...args, ...(kubeconfig ? ['--kubeconfig', kubeconfig] : [])], {
    encoding: 'utf8',
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function template(...sets: string[]): Obj[] {
  const r = helm([
    'template',
    'sluice',
    CHART,
    '--namespace',
    'sluice-system',
    ...sets.flatMap((s) => ['--set', s]),
  ]);
  expect(r.stderr).toBe('');
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const env = (objs: Obj[]) => {
  const deployment = objs.find((o) => o.kind === 'Deployment') as unknown as {
    spec: {
      replicas: number;
      template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
    };
  };
  return {
    replicas: deployment.spec.replicas,
    env: Object.fromEntries(deployment.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value])),
  };
};

describe('Helm chart charts/sluice (helm built from helm.sh/helm/v3)', () => {
  it('passes helm lint --strict', () => {
    const r = helm(['lint', '--strict', CHART]);
    expect(r.stdout).toContain('0 chart(s) failed');
    expect(r.code).toBe(0);
  });

  it('renders the defaults: two replicas with leader election, dashboards for the Grafana sidecar, a GatewayClass', () => {
    const objs = template();
    const { replicas, env: e } = env(objs);
    expect(replicas).toBe(2);
    expect(e).toMatchObject({
      SLUICE_LEADER_ELECT: 'true',
      SLUICE_PROXY_IMAGE: 'sluice/proxy:0.1.0',
      SLUICE_PROXY_REPLICAS: '2',
      SLUICE_PROXY_WORKERS: '1',
    });
    expect(e.SLUICE_PROXY_REDIS_URL).toBeUndefined();
    const dashboards = objs.filter(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1',
    );
    expect(dashboards.map((d) => d.metadata.name).sort()).toEqual([
      'sluice-dashboard-ai-spend',
      'sluice-dashboard-gateway-health',
    ]);
    for (const d of dashboards) {
      const json = JSON.parse(Object.values(d.data as Record<string, string>)[0]!);
      expect(json.panels.length).toBeGreaterThan(5);
    }
    expect(objs.some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    expect(objs.find((o) => o.kind === 'GatewayClass')).toMatchObject({
      spec: { controllerName: 'sluice.dev/gateway-controller' },
    });
  });

  it('renders the production values: Redis, a ServiceMonitor, more replicas and workers, image pins', () => {
    const objs = template(
      'redis.url=redis://redis.sluice-system:6379',
      'metrics.serviceMonitor.enabled=true',
      'metrics.serviceMonitor.labels.release=prom',
      'replicas=3',
      'image.tag=1.2.3',
      'proxy.replicas=4',
      'proxy.workers=2',
    );
    const { replicas, env: e } = env(objs);
    expect(replicas).toBe(3);
    expect(e).toMatchObject({
      SLUICE_PROXY_REDIS_URL: 'redis://redis.sluice-system:6379',
      SLUICE_PROXY_REPLICAS: '4',
      SLUICE_PROXY_WORKERS: '2',
    });
    expect(JSON.stringify(objs)).toContain('sluice/operator:1.2.3');
    const monitor = objs.find((o) => o.kind === 'ServiceMonitor');
    expect(monitor?.metadata.labels?.release).toBe('prom');
  });

  it('takes the Redis URL from an existing Secret, so its password is in no rendered value', () => {
    const objs = template('redis.url=redis://ignored:6379', 'redis.existingSecret.name=sluice-redis');
    const deployment = objs.find((o) => o.kind === 'Deployment');
    expect(JSON.stringify(deployment)).toContain(
      JSON.stringify({
        name: 'SLUICE_PROXY_REDIS_URL',
        valueFrom: { secretKeyRef: { name: 'sluice-redis', key: 'url' } },
      }),
    );
    expect(JSON.stringify(objs)).not.toContain('redis://ignored');
  });

  it('renders a minimal install: no dashboards, no GatewayClass, one replica without leader election', () => {
    const objs = template(
      'dashboards.enabled=false',
      'gatewayClass.create=false',
      'replicas=1',
      'leaderElection.enabled=false',
    );
    expect(objs.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    expect(objs.some((o) => o.kind === 'GatewayClass')).toBe(false);
    expect(env(objs)).toMatchObject({ replicas: 1, env: { SLUICE_LEADER_ELECT: 'false' } });
  });

  it('deploy/operator/10-operator.yaml is the chart rendered (npm run generate:manifests after a chart change)', () => {
    expect(readFileSync(join(REPO_ROOT, 'deploy', 'operator', '10-operator.yaml'), 'utf8')).toBe(
      renderPlainManifests(),
    );
  });

  describe('helm install into a real API server', () => {
    let cp: ControlPlane;
    let fake: RunningFake;
    let operator: SluiceProcess;
    let installOutput: string;
    beforeAll(async () => {
      cp = await startControlPlane();
      cp.kubectl(['apply', '--server-side', '-f', cp.gatewayApiCrds]);
      const r = helm(
        ['install', 'sluice', CHART, '--namespace', 'sluice-system', '--create-namespace', '--wait=false'],
        cp.kubeconfig,
      );
      expect(r.stderr).toBe('');
      installOutput = r.stdout;
      fake = await startFake({ name: 'fake-openai' });
    }, 180_000);
    afterAll(async () => {
      await operator?.stop();
      await fake?.close();
      await cp?.stop();
    });

    it('installs the CRDs, RBAC, operator Deployment and GatewayClass, and says what to do next', () => {
      expect(installOutput).toContain('STATUS: deployed');
      expect(installOutput).toContain('Point any OpenAI SDK at');
      const crds = cp.kubectl(['get', 'crd', '-o', 'name']);
      for (const crd of [
        'aibackends.sluice.dev',
        'promptguards.sluice.dev',
        'tokenratelimitpolicies.sluice.dev',
      ])
        expect(crds).toContain(crd);
      expect(
        cp.kubectl(['get', 'deployment', 'sluice-operator', '-n', 'sluice-system', '-o', 'name']),
      ).toContain('sluice-operator');
      expect(cp.kubectl(['get', 'gatewayclass', 'sluice', '-o', 'name'])).toContain('sluice');
    });

    it('the operator, with the ServiceAccount and RBAC the chart made, reconciles the Kubernetes sample', async () => {
      operator = await startInstalledOperator(cp);
      applyKubernetesSample(cp, await freePort(), fake.url);
      const get = (args: string[]) =>
        JSON.parse(cp.kubectl(['get', ...args, '-n', SAMPLE_NAMESPACE, '-o', 'json']));
      await waitFor(
        () => {
          const route = get(['httproute', 'ai']);
          return route.status?.parents?.[0]?.conditions?.some(
            (c: { type: string; status: string }) => c.type === 'Accepted' && c.status === 'True',
          );
        },
        'the sample route Accepted',
        30_000,
        () => operator.output().slice(-2000),
      );
      expect(get(['deployment', 'sluice-ai-gateway']).spec.template.spec.containers[0].image).toBe(
        'sluice/proxy:0.1.0',
      );
      const gw = get(['gateway', 'ai-gateway']);
      expect(gw.status.conditions.find((c: { type: string }) => c.type === 'Accepted').status).toBe('True');
    });
  });
});
