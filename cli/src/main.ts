#!/usr/bin/env node
// First: the modules loaded after it come from the compile cache.
import './compile-cache.ts';
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { exitAfterLogDrain, processLogger } from '../../lib/src/logging/log-destination.ts';
import {
  OTLP_PROTOCOLS,
  type OtlpProtocol,
  PROPAGATORS,
  type Propagator,
  type TracingOptions,
} from '../../lib/src/telemetry/tracing-options.ts';
import type { ProxyHostOptions } from '../../proxy/src/runtime/proxy-host.ts';
import { type AccessLogSink, parseAccessLogSink } from '../../proxy/src/telemetry/access-log.ts';
import { IpcPeer } from '../../proxy/src/workers/ipc-peer.ts';
import { autoWorkers } from '../../proxy/src/workers/worker-count.ts';
import { commandUsage, type FlagName, type Flags, intFlag, parseCli, USAGE } from './options.ts';

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`sluice: ${(err as Error).message}\nRun 'sluice --help' for the commands.\n`);
    return 2;
  }
  const { command, flags, help } = parsed;
  if (command === undefined) {
    (help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return help ? 0 : 2;
  }
  if (help) {
    process.stdout.write(`${commandUsage(command)}\n`);
    return 0;
  }
  switch (command) {
    case 'standalone':
      return standalone(flags);
    case 'translate':
      return translateCommand(flags);
    case 'validate':
      return (await import('./validate.ts')).validate(requireSource(flags), {
        controllerName: flags['controller-name']!,
        warnOnly: flags['warn-only'] === 'true',
        out: process.stdout,
        err: process.stderr,
      });
    case 'operator':
      return operator(flags);
    case 'proxy':
      return proxy(flags);
    default:
      throw new Error(`unknown command "${command}"`);
  }
}

/** What every command that serves traffic (standalone, proxy) takes from its flags. */
function proxyHostOptions(flags: Flags, logger: Logger): ProxyHostOptions {
  return {
    bindAddress: flags['bind-address']!,
    adminPort: intFlag(flags, 'admin-port'),
    limits: {
      maxHeaderBytes: intFlag(flags, 'max-header-bytes'),
      maxBodyBytes: intFlag(flags, 'max-body-bytes'),
      maxBufferedBodyBytes: intFlag(flags, 'max-buffered-body-bytes'),
      http2IdleTimeoutMs: intFlag(flags, 'http2-idle-timeout') * 1000,
      drainTimeoutMs: intFlag(flags, 'drain-timeout') * 1000,
    },
    redisUrl: flags['redis-url'],
    logger,
    telemetry: {
      tracing: tracingOptions(flags, process.env),
      accessLog: accessLogSink(flags, process.env),
      accessLogFilter: {
        minStatus: intFlag(flags, 'access-log-min-status'),
        sampleRatio: ratioFlag(flags, 'access-log-sample'),
        fields: flags['access-log-fields']
          ?.split(',')
          .map((f) => f.trim())
          .filter(Boolean),
        template: flags['access-log-format'],
      },
    },
  };
}

/**
 * Tracing from --otlp-endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, the base URL; `/v1/traces` is added) or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL), with the standard OTEL_EXPORTER_OTLP_HEADERS,
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES honoured.
 */
function tracingOptions(flags: Flags, env: NodeJS.ProcessEnv): TracingOptions | undefined {
  // Checked even with tracing off: a typo should not wait for the day a collector is configured.
  const propagators = propagatorsFlag(flags['trace-propagators']);
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? flags['otlp-protocol'];
  if (!(OTLP_PROTOCOLS as readonly (string | undefined)[]).includes(protocol))
    throw new Error(`--otlp-protocol: "${protocol}" is not one of ${OTLP_PROTOCOLS.join(', ')}`);
  const base = otlpBase(flags);
  // OTLP/HTTP has a path per signal; gRPC is host and port, the service named by the call.
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base && protocol !== 'grpc' ? `${base}/v1/traces` : base);
  if (!endpoint) return undefined;
  return {
    endpoint,
    samplingRatio: ratioFlag(flags, 'trace-sampling-ratio'),
    serviceName: env.OTEL_SERVICE_NAME ?? 'sluice-proxy',
    resource: keyValues(env.OTEL_RESOURCE_ATTRIBUTES),
    headers: keyValues(env.OTEL_EXPORTER_OTLP_HEADERS),
    propagators,
    protocol: protocol as OtlpProtocol,
    maxQueueSize: queueSize(env.OTEL_BSP_MAX_QUEUE_SIZE),
  };
}

/** --otlp-endpoint without trailing slashes: the base each signal's path is added to. */
function otlpBase(flags: Flags): string | undefined {
  return flags['otlp-endpoint']?.replace(/\/+$/, '');
}

/** OTEL_BSP_MAX_QUEUE_SIZE: how many finished spans may wait for the collector (default 4,096). */
function queueSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const size = Number(value);
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`OTEL_BSP_MAX_QUEUE_SIZE must be a positive integer, got "${value}"`);
  return size;
}

function propagatorsFlag(value: string | undefined): Propagator[] {
  const names = (value ?? 'tracecontext')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const n of names)
    if (!(PROPAGATORS as readonly string[]).includes(n))
      throw new Error(`--trace-propagators: unknown propagator "${n}" (expected ${PROPAGATORS.join(', ')})`);
  return names as Propagator[];
}

/**
 * The access-log sink; `otlp` sends lines as log records to the collector tracing uses
 * (--otlp-endpoint plus `/v1/logs`, or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT), with the same headers.
 */
function accessLogSink(flags: Flags, env: NodeJS.ProcessEnv): AccessLogSink {
  const sink = parseAccessLogSink(flags['access-log']);
  if (sink !== 'otlp') return sink;
  if (!env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT && flags['otlp-protocol'] === 'grpc')
    throw new Error(
      "--access-log otlp sends log records over OTLP/HTTP: with --otlp-protocol grpc, set OTEL_EXPORTER_OTLP_LOGS_ENDPOINT to the collector's OTLP/HTTP logs URL",
    );
  const base = otlpBase(flags);
  const endpoint = env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT ?? (base ? `${base}/v1/logs` : undefined);
  if (!endpoint)
    throw new Error(
      '--access-log otlp needs a collector: set --otlp-endpoint (or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)',
    );
  return {
    otlp: {
      endpoint,
      headers: keyValues(env.OTEL_EXPORTER_OTLP_HEADERS),
      serviceName: env.OTEL_SERVICE_NAME ?? 'sluice-proxy',
      resource: keyValues(env.OTEL_RESOURCE_ATTRIBUTES),
    },
  };
}

/** `k1=v1,k2=v2` (the OTel environment format, values percent-encoded). */
function keyValues(list: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (list ?? '').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq).trim()] = decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return out;
}

function requireSource(flags: Flags): string {
  if (!flags.file) throw new Error('-f/--file is required: a directory, a file, or - for standard input');
  return flags.file;
}

async function standalone(flags: Flags): Promise<number> {
  const logger = processLogger(flags['log-level'] ?? 'info', 'sluice');
  const { runStandalone } = await import('./run-standalone.ts');
  return serveTraffic(flags, logger, (primary) =>
    runStandalone({
      source: requireSource(flags),
      gateway: flags.gateway,
      controllerName: flags['controller-name']!,
      ...proxyHostOptions(flags, logger),
      primary,
    }),
  );
}

/**
 * Runs a command that serves traffic in this process, or with --workers N as the primary of N
 * worker processes (this same command, forked), each running `start` with the link to the primary.
 */
async function serveTraffic(
  flags: Flags,
  logger: Logger,
  start: (primary: IpcPeer | undefined) => Promise<{ close(): Promise<void> }>,
): Promise<number> {
  const workers = workersFlag(flags.workers);
  if (cluster.isPrimary && workers > 1) {
    const { startWorkerPool } = await import('../../proxy/src/workers/worker-pool.ts');
    const pool = await startWorkerPool({
      workers,
      bindAddress: flags['bind-address']!,
      adminPort: intFlag(flags, 'admin-port'),
      drainTimeoutMs: intFlag(flags, 'drain-timeout') * 1000,
      logger,
    });
    return serveUntilSignal(logger, pool);
  }
  if (cluster.isPrimary) return serveUntilSignal(logger, await start(undefined));
  const primary = new IpcPeer(process);
  // The primary is gone (killed): an unsupervised worker must not go on holding the ports.
  process.on('disconnect', () => process.exit(1));
  const instance = await start(primary);
  await primary.call('worker.started', undefined);
  // Ctrl-C reaches every process of the terminal's group: the primary relays it as SIGTERM, once.
  process.on('SIGINT', () => {});
  const code = await serveUntilSignal(logger, instance, ['SIGTERM']);
  process.removeAllListeners('disconnect');
  process.disconnect();
  return code;
}

/** --proxy-workers: checked here, resolved by each proxy (auto: the proxy pod's CPUs, not the operator's). */
function proxyWorkers(value: string | undefined): string {
  workersFlag(value);
  return value ?? '1';
}

/** --workers: a count, or auto for one per CPU this process may use (the pod's CPU limit included). */
function workersFlag(value: string | undefined): number {
  if (value === 'auto') return autoWorkers();
  const n = Number(value ?? '1');
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new Error(`--workers must be auto or a whole number from 1 to 256, got "${value}"`);
  return n;
}

async function operator(flags: Flags): Promise<number> {
  const logger = processLogger(flags['log-level'] ?? 'info', 'sluice-operator');
  const leaseDurationSeconds = intFlag(flags, 'lease-duration');
  // Each command loads only its own modules: the operator never loads the data path (fastify
  // routes, undici pools, guards, the OTel SDK), which was 0.6 s of its start and ~30 MiB of RSS.
  const { runOperator } = await import('../../operator/src/controller/run-operator.ts');
  const instance = await runOperator({
    kubeconfig: flags.kubeconfig,
    controllerName: flags['controller-name']!,
    bindAddress: flags['bind-address']!,
    adminPort: intFlag(flags, 'admin-port'),
    leaderElection: {
      enabled: flags['leader-elect'] !== 'false',
      namespace: flags.namespace!,
      leaseName: flags['lease-name']!,
      leaseDurationSeconds,
      retryPeriodMs: Math.max(200, (leaseDurationSeconds * 1000) / 5),
    },
    tracing: tracingOptions(flags, {
      ...process.env,
      OTEL_SERVICE_NAME: process.env.OTEL_SERVICE_NAME ?? 'sluice-operator',
    }),
    proxy: {
      image: flags['proxy-image']!,
      replicas: intFlag(flags, 'proxy-replicas'),
      redisUrl: flags['proxy-redis-url'],
      workers: proxyWorkers(flags['proxy-workers']),
      telemetry: {
        otlpEndpoint: flags['proxy-otlp-endpoint'],
        otlpProtocol: flags['proxy-otlp-protocol'],
        samplingRatio: flags['proxy-trace-sampling-ratio'],
        accessLog: flags['proxy-access-log'],
      },
      logLevel: flags['log-level']!,
      adminPort: 9901,
    },
    logger,
    onLostLeadership: () => {
      logger.error('lost leadership, exiting so a fresh replica takes over');
      process.exit(1);
    },
  });
  return serveUntilSignal(logger, instance);
}

async function proxy(flags: Flags): Promise<number> {
  const logger = processLogger(flags['log-level'] ?? 'info', 'sluice-proxy');
  if (!flags['config-map'] || !flags.secret) throw new Error('proxy needs --config-map and --secret');
  const { runKubernetesProxy } = await import('../../proxy/src/kubernetes/run-kubernetes-proxy.ts');
  const configMap = flags['config-map'];
  const secret = flags.secret;
  return serveTraffic(flags, logger, (primary) =>
    runKubernetesProxy({
      kubeconfig: flags.kubeconfig,
      namespace: flags.namespace!,
      configMap,
      secret,
      ...proxyHostOptions(flags, logger),
      primary,
    }),
  );
}

/** Runs until SIGTERM or SIGINT, then drains and closes: how every long-running command ends. */
async function serveUntilSignal(
  logger: Logger,
  instance: { close(): Promise<void> },
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): Promise<number> {
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'draining and shutting down');
      // A second signal means "now": no more waiting for in-flight requests.
      const force = () => process.exit(1);
      for (const s of signals) process.once(s, force);
      resolve();
    };
    for (const s of signals) process.once(s, stop);
  });
  await instance.close();
  exitAfterLogDrain(0);
  return 0;
}

async function translateCommand(flags: Flags): Promise<number> {
  const { translateSource } = await import('../../operator/src/standalone/snapshot-to-config.ts');
  const { result } = await translateSource(requireSource(flags), flags['controller-name']!);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`sluice: ${err.message}\n`);
    process.exitCode = 1;
    // A worker's link to its primary would keep it alive: the primary learns of the failure by its exit.
    if (cluster.isWorker) process.exit(1);
  },
);

function ratioFlag(flags: Flags, name: FlagName): number {
  const ratio = Number(flags[name]);
  if (!(ratio >= 0 && ratio <= 1)) throw new Error(`--${name} must be between 0 and 1, got "${flags[name]}"`);
  return ratio;
}
