import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../cluster/control-plane.ts';
import { installSluice } from '../cluster/install.ts';
import {
  applyKubernetesSample,
  SAMPLE_NAMESPACE as NS,
  SAMPLE_PROXY as PROXY,
  probeRoute,
  servesProbe,
  startSampleProxy,
} from '../cluster/kubernetes-sample.ts';
import { type SluiceProcess, startSluice, waitFor } from '../cluster/sluice-process.ts';
import { type RunningFake, startFake } from '../support/fake-providers.ts';
import { freePort } from '../support/ports.ts';

async function metric(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Operator and proxy when things fail: a crashed leader, an API server restart, the API gone. */
describe('operator and proxy resilience on a real API server', () => {
  let cp: ControlPlane;
  let fake: RunningFake;
  let proxy: SluiceProcess;
  let listenerPort: number;
  const operators: { proc: SluiceProcess; admin: number }[] = [];

  const serves = (n: number) => servesProbe(listenerPort, n);
  const lease = () =>
    JSON.parse(cp.kubectl(['get', 'lease', 'sluice-operator', '-n', 'sluice-system', '-o', 'json']));

  beforeAll(async () => {
    cp = await startControlPlane();
    installSluice(cp);
    fake = await startFake({ name: 'fake-openai' });
    listenerPort = await freePort();
    applyKubernetesSample(cp, listenerPort, fake.url);
    const kubeconfig = cp.serviceAccountKubeconfig('sluice-system', 'sluice-operator');
    for (let i = 0; i < 2; i++) {
      const admin = await freePort();
      const args = ['operator', '--kubeconfig', kubeconfig, '--proxy-replicas', '1', '--lease-duration', '2'];
      operators.push({ proc: await startSluice(args, admin), admin });
    }
    await waitFor(
      () => cp.tryKubectl(['get', 'configmap', `${PROXY}-config`, '-n', NS]).code === 0,
      'the proxy ConfigMap',
    );
    proxy = await startSampleProxy(cp);
  }, 180_000);

  afterAll(async () => {
    await proxy?.stop();
    for (const o of operators) await o.proc.stop();
    await fake?.close();
    await cp?.stop();
  });

  it('two operator replicas elect one leader; when it crashes the standby takes over', async () => {
    await waitFor(
      async () =>
        (await metric(operators[0]!.admin, 'sluice_operator_leader')) +
          (await metric(operators[1]!.admin, 'sluice_operator_leader')) ===
        1,
      'one leader',
    );
    const leaderIndex = (await metric(operators[0]!.admin, 'sluice_operator_leader')) === 1 ? 0 : 1;
    const leader = operators[leaderIndex]!;
    const standby = operators[1 - leaderIndex]!;
    expect(lease().spec.holderIdentity).toMatch(new RegExp(`-${leader.proc.child.pid}$`));
    // The standby watches but never writes.
    expect(await metric(standby.admin, 'sluice_operator_applies_total')).toBe(0);
    const transitions = lease().spec.leaseTransitions ?? 0;

    await leader.proc.stop(true);
    cp.kubectl(['apply', '-f', '-'], probeRoute(1));
    await waitFor(
      () => serves(1),
      'the standby to take over and publish the change',
      20_000,
      () => standby.proc.output().slice(-2000),
    );
    expect(await metric(standby.admin, 'sluice_operator_leader')).toBe(1);
    expect(lease().spec.holderIdentity).toMatch(new RegExp(`-${standby.proc.child.pid}$`));
    expect(lease().spec.leaseTransitions).toBe(transitions + 1);
  }, 60_000);

  it('the proxy keeps serving while the API server is down, and the operator resumes its watches after', async () => {
    // A leader that cannot renew its lease for a whole lease duration must step down (another replica
    // may have taken over), so this part runs one operator with a lease that outlasts the outage.
    for (const o of operators) await o.proc.stop();
    const admin = await freePort();
    const kubeconfig = cp.serviceAccountKubeconfig('sluice-system', 'sluice-operator');
    operators.push({
      proc: await startSluice(
        ['operator', '--kubeconfig', kubeconfig, '--proxy-replicas', '1', '--lease-duration', '30'],
        admin,
      ),
      admin,
    });
    await waitFor(
      async () => (await metric(admin, 'sluice_operator_leader')) === 1,
      'the new operator to lead',
    );
    const client = new OpenAI({ apiKey: 'k', baseURL: `http://127.0.0.1:${listenerPort}/v1`, maxRetries: 0 });
    const ask = async () =>
      (
        await client.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'hi' }],
        })
      ).choices[0]?.message.content;
    await cp.restartApiServer();
    cp.kubectl(['apply', '-f', '-'], probeRoute(2));
    await waitFor(
      () => serves(2),
      'a change right after an API server restart',
      40_000,
      () => operators.map((o) => o.proc.output().slice(-1500)).join('\n----\n'),
    );
    // Then down for a while: long enough for every watch to fail and back off.
    await cp.stopApiServer();
    expect(await ask()).toContain('fake-openai');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await ask()).toContain('fake-openai');
    await cp.startApiServer();
    cp.kubectl(['apply', '-f', '-'], probeRoute(3));
    await waitFor(
      () => serves(3),
      'a change after the API server came back',
      40_000,
      () => operators.map((o) => o.proc.output().slice(-2500)).join('\n----\n'),
    );
    const survivor = operators.at(-1)!.proc;
    expect(survivor.child.exitCode).toBeNull();
    expect(survivor.output()).toContain('watch failed, restarting');
  }, 90_000);
});
