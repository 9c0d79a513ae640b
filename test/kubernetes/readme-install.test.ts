import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { REPO_ROOT } from '../cluster/install.ts';
import {
  SAMPLE_NAMESPACE as NS,
  SAMPLE_PROXY as PROXY,
  startInstalledOperator,
} from '../cluster/kubernetes-sample.ts';
import { type SluiceProcess, waitFor } from '../cluster/sluice-process.ts';
import { standInForPods } from '../cluster/stand-in-pods.ts';

const USER_KEY = 'sk-the-users-real-key';
const GATEWAY_API_RELEASE_URL =
  'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.3/standard-install.yaml';

/** The shell lines of the README's install block (the fenced block after "**Install**"), comments dropped. */
function readmeInstallLines(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /\*\*Install\*\*[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no **Install** sh block');
  return block
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/**
 * The README's Kubernetes install, typed line by line as a user would, against a real API server with
 * the real kubectl and helm. Only the Gateway API release URL is swapped for the same release's CRDs
 * from the Go module (nothing leaves the machine). There is no kubelet: the operator runs as a local
 * process with the ServiceAccount the chart made, and stand-in pods make the proxy Deployment
 * available, as in the operator tests.
 */
describe('the README Kubernetes install, verbatim, on a real API server', () => {
  let cp: ControlPlane;
  let operator: SluiceProcess | undefined;
  let work: string;
  const outputs: { line: string; stdout: string }[] = [];
  const lines = readmeInstallLines();

  /** Runs one README line in bash with kubectl and helm on PATH and the test cluster as KUBECONFIG. */
  const type = (line: string) => {
    const helm = execFileSync('bash', [join(REPO_ROOT, 'test/cluster/build-helm.sh')], {
      encoding: 'utf8',
    }).trim();
    const r = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', line.replace(GATEWAY_API_RELEASE_URL, join(work, 'standard-install.yaml'))],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${cp.binDir}:${dirname(helm)}:${process.env.PATH}`,
          KUBECONFIG: cp.kubeconfig,
          OPENAI_API_KEY: USER_KEY,
        },
      },
    );
    if (r.status !== 0) throw new Error(`README line failed (exit ${r.status}): ${line}\n${r.stderr}`);
    outputs.push({ line, stdout: r.stdout });
    return r.stdout;
  };
  const userKey = () =>
    Buffer.from(
      JSON.parse(cp.kubectl(['get', 'secret', 'openai', '-n', NS, '-o', 'json'])).data['api-key'],
      'base64',
    ).toString();

  beforeAll(async () => {
    cp = await startControlPlane();
    work = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
    writeFileSync(
      join(work, 'standard-install.yaml'),
      readdirSync(cp.gatewayApiCrds)
        .sort()
        .map((f) => readFileSync(join(cp.gatewayApiCrds, f), 'utf8'))
        .join('\n---\n'),
    );
  }, 120_000);
  afterAll(async () => {
    await operator?.stop();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('orders the steps so each one works: namespace, then the key Secret, then the samples', () => {
    expect(lines.findIndex((l) => l.includes('00-namespace.yaml'))).toBeLessThan(
      lines.findIndex((l) => l.includes('create secret generic openai')),
    );
    expect(lines.findIndex((l) => l.includes('create secret generic openai'))).toBeLessThan(
      lines.findIndex((l) => l === 'kubectl apply -f samples/kubernetes/'),
    );
  });

  it('installs, keeps the user key through `kubectl apply -f samples/kubernetes/`, and reports status and address', async () => {
    const statusAt = lines.findIndex((l) => l.startsWith('kubectl -n sluice-demo get'));
    expect(statusAt).toBeGreaterThan(0);
    for (const line of lines.slice(0, statusAt)) {
      type(line);
      if (line.startsWith('helm install'))
        // The chart's operator Deployment has no kubelet to run it here: run the same operator as a
        // process with the ServiceAccount and RBAC the chart created.
        operator = await startInstalledOperator(cp);
    }
    // The user's key survived the samples (which ship no Secret) and reached the proxy's own Secret.
    expect(userKey()).toBe(USER_KEY);
    await waitFor(
      () => cp.tryKubectl(['get', 'secret', `${PROXY}-credentials`, '-n', NS]).code === 0,
      'the proxy credentials Secret',
      30_000,
      () => operator!.output().slice(-2000),
    );
    const credentials = JSON.parse(
      cp.kubectl(['get', 'secret', `${PROXY}-credentials`, '-n', NS, '-o', 'json']),
    );
    expect(Buffer.from(Object.values<string>(credentials.data)[0]!, 'base64').toString()).toContain(USER_KEY);

    await waitFor(
      () => standInForPods(cp, NS, `app.kubernetes.io/instance=${PROXY}`) >= 0 && programmed(),
      'the Gateway Programmed',
      60_000,
      () => operator!.output().slice(-2000),
    );
    const [status, address] = lines.slice(statusAt).map(type);
    expect(status).toMatch(/gateway\.gateway\.networking\.k8s\.io\/ai-gateway\s+sluice\s+\S+\s+True/);
    expect(status).toMatch(/httproute\.gateway\.networking\.k8s\.io\/ai/);
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(userKey()).toBe(USER_KEY);
  }, 240_000);

  function programmed(): boolean {
    const gw = JSON.parse(cp.kubectl(['get', 'gateway', 'ai-gateway', '-n', NS, '-o', 'json']));
    return gw.status?.conditions?.some(
      (c: { type: string; status: string }) => c.type === 'Programmed' && c.status === 'True',
    );
  }
});
