import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { runStandalone, type Standalone } from '../../cli/src/run-standalone.ts';
import { DEFAULT_LIMITS } from '../../proxy/src/server/serving-limits.ts';
import { freePort } from './ports.ts';

export const CONTROLLER = 'sluice.dev/gateway-controller';

export interface TestGateway {
  dir: string;
  port: number;
  adminPort: number;
  url: string;
  standalone: Standalone;
  /** What the gateway logged, when started with `captureLogs` (JSON lines). */
  logs(): string;
  /** Replaces a file in the watched directory and reloads synchronously. */
  write(file: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

/** The Sluice GatewayClass and a Gateway `gw` with the given listeners (YAML list items, indented 4). */
export function gatewayWithListeners(listeners: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: sluice}
spec: {controllerName: ${CONTROLLER}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: sluice
  listeners:
${listeners}`;
}

/** Standard head of a test directory: the Sluice GatewayClass and a Gateway with one HTTP listener on `port`. */
export function gatewayYaml(port: number, listenerExtra = ''): string {
  return gatewayWithListeners(`    - name: http
      port: ${port}
      protocol: HTTP
${listenerExtra}`);
}

/**
 * An HTTPRoute `name` on Gateway `gw` for PathPrefix `path` to Service `service` port 80; `ruleName`
 * names its rule, `ruleExtra` adds fields to it (YAML lines indented by six spaces).
 */
export function prefixRouteYaml(
  name: string,
  path: string,
  service: string,
  ruleName?: string,
  ruleExtra = '',
): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
    - ${ruleName ? `name: ${ruleName}\n      ` : ''}matches: [{path: {type: PathPrefix, value: ${path}}}]
      backendRefs: [{name: ${service}, port: 80}]
${ruleExtra}`;
}

/**
 * A ClientTrafficPolicy `name` on Gateway `gw` (one listener when `section` is given) with `specBody`
 * (YAML lines indented 2, under spec).
 */
export function clientTrafficPolicyYaml(name: string, section: string | undefined, specBody: string): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: ClientTrafficPolicy
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: gw${section ? `, sectionName: ${section}` : ''}}]
${specBody}`;
}

/** A BackendTrafficPolicy `name` on HTTPRoute `route` with `specBody` (indented YAML under spec). */
export function backendTrafficPolicyYaml(name: string, route: string, specBody: string): string {
  return `---
apiVersion: sluice.dev/v1alpha1
kind: BackendTrafficPolicy
metadata: {name: ${name}, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ${route}}]
${specBody}`;
}

/** An HTTPRoute `name` on Gateway `gw` sending everything to Service `service` port 80. */
export function serviceRouteYaml(name: string, service: string): string {
  return `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: ${service}, port: 80}]}]
`;
}

/**
 * A Service named `name` whose EndpointSlice points at loopback ports (no ports: no endpoints);
 * `appProtocol` marks its port (kubernetes.io/h2c for HTTP/2 backends).
 */
export function serviceYaml(
  name: string,
  ports: number[],
  namespace = 'default',
  appProtocol?: string,
): string {
  const endpoints = ports.length === 0 ? '[]' : `\n  - addresses: ["127.0.0.1"]`;
  // One slice per port keeps several local backends behind one Service, as several pods would be.
  const slices = (ports.length === 0 ? [0] : ports)
    .map(
      (p, i) => `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-${i}
  namespace: ${namespace}
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
endpoints: ${endpoints}
ports: [{name: http, port: ${p || 1}}]
`,
    )
    .join('');
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  ports: [{name: http, port: 80${appProtocol ? `, appProtocol: ${appProtocol}` : ''}}]
${slices}`;
}

/** Runs standalone mode on a temp directory holding `files`; listeners bind 127.0.0.1. */
export async function startGateway(
  listenerPort: number,
  files: Record<string, string>,
  options: {
    /** `::` takes IPv6 and IPv4 clients alike (tests of client addresses use both). */
    bindAddress?: string;
    /** Keep every log line (debug and up), for tests that check what is never logged. */
    captureLogs?: boolean;
    /** Write the access log (JSON lines) to this file. */
    accessLogFile?: string;
  } = {},
): Promise<TestGateway> {
  const logged: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'sluice-test-'));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const adminPort = await freePort();
  const standalone = await runStandalone({
    source: dir,
    gateway: undefined,
    controllerName: CONTROLLER,
    bindAddress: options.bindAddress ?? '127.0.0.1',
    ...(options.accessLogFile
      ? { telemetry: { tracing: undefined, accessLog: { file: options.accessLogFile } } }
      : {}),
    adminPort,
    limits: { ...DEFAULT_LIMITS, maxBodyBytes: 1_048_576 },
    logger: options.captureLogs
      ? pino({ level: 'debug' }, { write: (line: string) => void logged.push(line) })
      : pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }),
  });
  return {
    dir,
    port: listenerPort,
    adminPort,
    url: `http://127.0.0.1:${listenerPort}`,
    standalone,
    logs: () => logged.join(''),
    write: async (file, yaml) => {
      // Write-then-rename, as editors and config tools do, so the watcher never reads half a file.
      const staging = join(tmpdir(), `sluice-staging-${process.pid}-${Date.now()}-${Math.random()}`);
      await writeFile(staging, yaml);
      await rename(staging, join(dir, file));
      await standalone.reload();
    },
    close: async () => {
      await standalone.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
