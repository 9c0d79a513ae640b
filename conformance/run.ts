/**
 * `npm run conformance`: builds (cached) the official Gateway API conformance suite, echo-basic,
 * coredns and the control plane, then runs conformance/harness.ts inside a fresh network namespace
 * (`unshare --net`, as root): the pod and Gateway addresses it uses exist only there and vanish with
 * it. Writes the report to conformance/reports/<version>/sluice.yaml unless --report says otherwise.
 *
 *   npm run conformance                                 all profiles
 *   npm run conformance -- --profiles GATEWAY-HTTP      one profile
 *   npm run conformance -- --run-test HTTPRouteSimpleSameNamespace
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { controlPlaneBinaries } from '../test/cluster/control-plane.ts';

export const GATEWAY_API_VERSION = 'v1.6.3';
export const ALL_PROFILES = 'GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS,GATEWAY-TCP,GATEWAY-UDP';
const ROOT = join(import.meta.dirname, '..');

const { values: flags } = parseArgs({
  options: {
    profiles: { type: 'string', default: ALL_PROFILES },
    report: {
      type: 'string',
      default: join(ROOT, 'conformance', 'reports', GATEWAY_API_VERSION, 'sluice.yaml'),
    },
    'run-test': { type: 'string' },
    'skip-tests': { type: 'string' },
    'supported-features': { type: 'string' },
    'log-dir': { type: 'string', default: join(ROOT, '.cache', 'conformance', 'logs') },
  },
});

if (process.getuid?.() !== 0) {
  console.error('npm run conformance needs root: it runs in a network namespace of its own (unshare --net)');
  process.exit(2);
}
const binDir = join(
  execFileSync('bash', [join(import.meta.dirname, 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim(),
  'bin',
);
controlPlaneBinaries();
mkdirSync(dirname(flags.report), { recursive: true });

const harnessArgs = [
  process.execPath,
  join(import.meta.dirname, 'harness.ts'),
  '--bin-dir',
  binDir,
  '--log-dir',
  flags['log-dir'],
  '--profiles',
  flags.profiles,
  '--report',
  flags.report,
  ...(flags['run-test'] ? ['--run-test', flags['run-test']] : []),
  ...(flags['skip-tests'] ? ['--skip-tests', flags['skip-tests']] : []),
  // Instead of what the GatewayClass publishes: to find out which features pass.
  ...(flags['supported-features'] ? ['--supported-features', flags['supported-features']] : []),
];
const started = Date.now();
const child = spawn('unshare', ['--net', '--', ...harnessArgs], { stdio: 'inherit' });
// Ctrl-C reaches the harness too (same process group); it stops its pods and removes their namespaces.
const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
console.log(`conformance run took ${Math.round((Date.now() - started) / 1000)} s; report: ${flags.report}`);
process.exit(code);
