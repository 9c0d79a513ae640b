import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aiRuleYaml, httpRouteYaml, maskEverythingGuardYaml } from '../../test/support/ai-yaml.ts';
import {
  gatewayWithListeners,
  gatewayYaml,
  serviceRouteYaml,
  serviceYaml,
} from '../../test/support/gateway.ts';
import { type TargetProcess, targetProcess } from '../load/target-process.ts';

export interface SluiceProcess extends TargetProcess {
  adminPort: number;
  /** Resident set size of the gateway process, in MiB. */
  rssMiB(): Promise<number>;
}

const ownRoot = join(import.meta.dirname, '..', '..');

/** The CLI of a checkout: this one, or an older one to compare with (BENCH_BASELINE; before the CLI moved to cli/ it lived in operator/src/cli/). */
function cliOf(root: string): string {
  for (const path of ['cli/src/main.ts', 'operator/src/cli/main.ts'])
    if (existsSync(join(root, path))) return join(root, path);
  throw new Error(`no Sluice CLI under ${root}`);
}

/**
 * Sluice standalone as its own process (as deployed), on a Gateway listening on `port` plus
 * `objectsYaml`; `root` runs another checkout of Sluice (the before of a before/after comparison);
 * `nodeArgs` go to Node itself (e.g. `--cpu-prof`).
 */
export async function startSluice(
  port: number,
  adminPort: number,
  objectsYaml: string,
  extraArgs: string[] = [],
  gateway = gatewayYaml(port),
  root = ownRoot,
  nodeArgs: string[] = [],
): Promise<SluiceProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
  await writeFile(join(dir, 'bench.yaml'), `${gateway}${objectsYaml}`);
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      cliOf(root),
      'standalone',
      '-f',
      dir,
      '--bind-address',
      '127.0.0.1',
      '--admin-port',
      String(adminPort),
      '--log-level',
      'warn',
      // Access logs are on by default; rows that measure them ask for them (older checkouts lack the flag).
      ...(root === ownRoot && !extraArgs.includes('--access-log') ? ['--access-log', 'off'] : []),
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return {
    ...(await targetProcess(child, port, 'SIGTERM', () => rm(dir, { recursive: true, force: true }))),
    adminPort,
    rssMiB: async () => {
      const { readFile } = await import('node:fs/promises');
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    },
  };
}

/** A Gateway whose one listener terminates TLS on `port` with the Secret `bench-cert` (see tlsSecretYaml). */
export function httpsGatewayYaml(port: number): string {
  return gatewayWithListeners(
    `    - {name: https, port: ${port}, protocol: HTTPS, tls: {certificateRefs: [{name: bench-cert}]}}\n`,
  );
}

/** A plain HTTPRoute to one upstream port. */
export function plainRouteYaml(upstreamPort: number): string {
  return serviceRouteYaml('plain', 'upstream') + serviceYaml('upstream', [upstreamPort]);
}

/** An AI route to one OpenAI target on `llmPort` serving every model. */
export function aiRouteYaml(llmPort: number): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: AIBackend
metadata: {name: llm, namespace: default}
spec:
  targets: [{name: fake, provider: OpenAI, endpoint: {url: "http://127.0.0.1:${llmPort}/v1"}}]
  pricing: [{model: bench-model, inputPerMillion: 1, outputPerMillion: 2}]
${httpRouteYaml(aiRuleYaml('llm'))}`;
}

/** Two budgets on every AI request (a global token budget and a per-model request budget), never exhausted. */
export function budgetPolicyYaml(): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: TokenRateLimitPolicy
metadata: {name: bench, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw}]
  limits:
    - {name: tokens, per: Global, measure: TotalTokens, amount: 1000000000000, window: Day}
    - {name: requests, per: Model, measure: Requests, amount: 1000000000000, window: Day}
`;
}

/** A PromptGuard with every built-in detector masking, on every AI request and answer. */
export function guardYaml(): string {
  return maskEverythingGuardYaml('bench', '', 'response: {mask: true}');
}

/**
 * A BackendTrafficPolicy on the plain route that never refuses but runs every control: a local
 * rate limit per client address (Distinct), a retry policy and a circuit breaker; `global` swaps the
 * limit for one counted in Redis.
 */
export function trafficPolicyBench(scope: 'local' | 'global'): string {
  const rule = `{clientSelectors: [{sourceCIDR: {type: Distinct, value: 0.0.0.0/0}}], limit: {requests: 1000000000, unit: Second}}`;
  return `---
apiVersion: sluice.dev/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: bench, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: plain}]
  rateLimit:
    ${scope}: {rules: [${rule}]}
${
  scope === 'local'
    ? `  retry: {numRetries: 2, retryOn: {triggers: [connect-failure, retriable-status-codes], httpStatusCodes: [503]}}
  circuitBreaker: {maxParallelRequests: 100000, maxParallelRetries: 100}
`
    : ''
}`;
}

/**
 * A SecurityPolicy on the plain route with three stages: a client-address rule (loopback allowed,
 * everyone else denied), an API key and a JWT verified against an inline ES256 key. Returns the YAML
 * and the headers a client needs to pass (a token valid for two hours).
 */
export function securityPolicyBench(): { yaml: string; headers: Record<string, string> } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'bench', alg: 'ES256' }],
  });
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'ES256', kid: 'bench', typ: 'JWT' })}.${b64({ iss: 'https://bench.idp', aud: 'bench', sub: 'loadgen', exp: now + 7200 })}`;
  const token = `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  return {
    headers: { 'x-api-key': 'bench-key-0123456789abcdef', authorization: `Bearer ${token}` },
    yaml: `---
apiVersion: v1
kind: Secret
metadata: {name: bench-keys, namespace: default}
stringData: {loadgen: bench-key-0123456789abcdef}
---
apiVersion: sluice.dev/v1alpha1
kind: SecurityPolicy
metadata: {name: bench, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: plain}]
  authorization:
    defaultAction: Deny
    rules: [{action: Allow, principal: {clientCIDRs: [127.0.0.0/8, "::1/128"]}}]
  apiKeyAuth: {credentialRefs: [{name: bench-keys}], extractFrom: [{headers: [x-api-key]}], sanitize: true}
  jwt:
    providers: [{name: bench, issuer: "https://bench.idp", audiences: [bench], localJWKS: {inline: ${JSON.stringify(jwks)}}}]
`,
  };
}
