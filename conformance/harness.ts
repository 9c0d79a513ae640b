/**
 * The conformance environment, run by conformance/run.ts inside a network namespace of its own: a
 * real control plane (with the EndpointSlice controller), Sluice's CRDs and operator, a process
 * kubelet that runs every pod (echo-basic, coredns, the Sluice proxies), a stand-in load balancer, and
 * the official suite pointed at all of it. Prints one line per test and exits with the suite's code.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/cluster/control-plane.ts';
import { installSluice, REPO_ROOT } from '../test/cluster/install.ts';
import { HOST_ADDRESS, removeLeftoverPodNetworks, setUpHarnessNetwork } from '../test/cluster/pod-network.ts';
import { ProcessKubelet } from '../test/cluster/process-kubelet.ts';
import { startSluice } from '../test/cluster/sluice-process.ts';
import { StandInLoadBalancer } from '../test/cluster/stand-in-load-balancer.ts';
import { freePort } from '../test/support/ports.ts';
import { corednsRunner, echoBasicRunner, sluiceProxyRunner } from './images.ts';
import { failureDetails, summarize } from './results.ts';

const { values: flags } = parseArgs({
  options: {
    'bin-dir': { type: 'string' },
    'log-dir': { type: 'string' },
    profiles: { type: 'string' },
    report: { type: 'string' },
    'run-test': { type: 'string' },
    'skip-tests': { type: 'string' },
    'supported-features': { type: 'string' },
  },
});
const binDir = flags['bin-dir']!;
const logDir = flags['log-dir']!;
mkdirSync(logDir, { recursive: true });

const GATEWAY_CLASS = 'sluice';
const PROXY_IMAGE = 'sluice/proxy:conformance';
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

setUpHarnessNetwork();
removeLeftoverPodNetworks();
const cp = await startControlPlane({ extraControllers: ['endpointslice'], advertiseAddress: HOST_ADDRESS });
const lb = new StandInLoadBalancer(cp);
const kubelet = new ProcessKubelet(
  cp,
  [echoBasicRunner(binDir), corednsRunner(binDir), sluiceProxyRunner(cp, lb, PROXY_IMAGE)],
  join(logDir, 'pods'),
);
let code = 1;
try {
  // The experimental channel: it is a superset of the standard one, and the suite tests experimental
  // fields (HTTPRoute retry) only where the API server keeps them. The report records the channel.
  installSluice(cp, join(dirname(binDir), 'gateway-api-crds-experimental'));
  cp.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS },
      spec: { controllerName: 'sluice.dev/gateway-controller' },
    }),
  );
  lb.start();
  await kubelet.start();
  const operator = await startSluice(
    [
      'operator',
      '--kubeconfig',
      cp.serviceAccountKubeconfig('sluice-system', 'sluice-operator'),
      '--namespace',
      'sluice-system',
      '--proxy-replicas',
      '1',
      '--proxy-image',
      PROXY_IMAGE,
      '--lease-duration',
      '2',
    ],
    await freePort(),
  );
  try {
    code = await runSuite();
  } finally {
    createWriteStream(join(logDir, 'operator.log')).end(operator.output());
    await operator.stop();
  }
} finally {
  await kubelet.close();
  lb.close();
  await cp.stop();
}
process.exit(code);

/** Runs the suite binary as implementations run it (`go test` flags, then the suite's own). */
async function runSuite(): Promise<number> {
  const args = [
    '-test.v',
    '-test.timeout=3h',
    '-test.run=^TestConformance$',
    `--gateway-class=${GATEWAY_CLASS}`,
    `--conformance-profiles=${flags.profiles}`,
    `--report-output=${flags.report}`,
    '--organization=sluice',
    '--project=sluice',
    '--url=https://github.com/sluice-dev/sluice',
    `--version=v${version}`,
    '--contact=https://github.com/sluice-dev/sluice/issues',
    // The control plane is thrown away after the run, so the suite's own deletion of its base objects
    // tests nothing of Sluice. It was the likely cause of a CI run that failed at the suite level after
    // every test had passed: besides writing the report it is the only step there, and each of its
    // deletes has a 10 s deadline that a loaded two-core machine can miss.
    '--cleanup-base-resources=false',
    ...(flags['run-test'] ? [`--run-test=${flags['run-test']}`] : []),
    ...(flags['skip-tests'] ? [`--skip-tests=${flags['skip-tests']}`] : []),
    ...(flags['supported-features'] ? [`--supported-features=${flags['supported-features']}`] : []),
  ];
  const suiteLog = join(logDir, 'suite.log');
  const child = spawn(join(binDir, 'conformance.test'), args, {
    env: { ...process.env, KUBECONFIG: cp.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(suiteLog);
  let output = '';
  const keep = (d: Buffer) => {
    log.write(d);
    output += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exitCode = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  log.end();
  console.log(summarize(output));
  const details = failureDetails(output);
  if (details) console.log(details);
  console.log(`suite log: ${suiteLog}`);
  return exitCode;
}
