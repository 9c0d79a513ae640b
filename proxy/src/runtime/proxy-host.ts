import type { Logger } from 'pino';
import { buildAdminServer } from '../../../lib/src/admin/build-admin-server.ts';
import type { TracingOptions } from '../../../lib/src/telemetry/tracing-options.ts';
import { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import type { ServingLimits } from '../server/serving-limits.ts';
import { AccessLog, type AccessLogFilter, type AccessLogSink } from '../telemetry/access-log.ts';
import type { Telemetry } from '../telemetry/request-telemetry.ts';
import type { IpcPeer } from '../workers/ipc-peer.ts';
import { PodCounters } from '../workers/pod-counters.ts';
import { ProxyRuntime } from './proxy-runtime.ts';

export interface ProxyHostOptions {
  bindAddress: string;
  adminPort: number;
  limits: ServingLimits;
  redisUrl?: string | undefined;
  logger: Logger;
  /** Tracing to an OTLP collector and access logs; both off when absent. */
  telemetry?: TelemetryOptions | undefined;
  /**
   * Set in a worker process of `--workers` (see workers/worker-pool.ts): the link to the primary,
   * which serves the admin port with every worker's readiness and metrics and holds the pod's counters.
   */
  primary?: IpcPeer | undefined;
}

export interface TelemetryOptions {
  tracing: TracingOptions | undefined;
  accessLog: AccessLogSink;
  accessLogFilter?: AccessLogFilter;
}

/**
 * A proxy runtime with its admin port, whatever feeds it configs (a YAML directory, a ConfigMap).
 * The feeder reports its own trouble with `sourceFailed`: /readyz shows it next to the runtime's last
 * error, and the reload-failure metric counts it, while the last good config keeps serving.
 */
export interface ProxyHost {
  runtime: ProxyRuntime;
  metrics: ProxyMetrics;
  /** `where` (file directory, ConfigMap) goes to the log line, not into /readyz. */
  sourceFailed(message: string, where?: Record<string, string>): void;
  sourceOk(): void;
  close(): Promise<void>;
}

export async function startProxyHost(
  options: ProxyHostOptions,
  initialSourceError: string | null = null,
): Promise<ProxyHost> {
  const { logger } = options;
  const metrics = new ProxyMetrics();
  const tracingOptions = options.telemetry?.tracing;
  const sink = options.telemetry?.accessLog ?? 'off';
  const telemetry: Telemetry = {
    // The OTel SDK and its exporter load only when tracing is on: startup and memory stay lean otherwise.
    tracing: tracingOptions
      ? new (await import('../../../lib/src/telemetry/tracing.ts')).Tracing(tracingOptions, (spans) =>
          metrics.spansDropped.inc(spans),
        )
      : undefined,
    accessLog: sink === 'off' ? undefined : await AccessLog.open(sink, options.telemetry?.accessLogFilter),
  };
  const { primary } = options;
  const runtime = new ProxyRuntime({
    logger,
    metrics,
    bindAddress: options.bindAddress,
    limits: options.limits,
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    ...(telemetry.tracing || telemetry.accessLog ? { telemetry } : {}),
    ...(primary ? { worker: { podCounters: new PodCounters(primary) } } : {}),
  });
  let sourceError = initialSourceError;
  // While draining, readiness turns false so load balancers stop sending new requests; liveness stays.
  let draining = false;
  const readiness = () => ({
    ready: runtime.ready && !draining,
    detail: { ...runtime.readinessDetail(), sourceError, ...(draining ? { draining } : {}) },
  });
  let admin: { close(): Promise<unknown> };
  if (primary) {
    primary.handle('worker.readiness', readiness);
    primary.handle('worker.metrics', () => metrics.registry.getMetricsAsJSON());
    admin = { close: async () => {} };
  } else {
    const server = buildAdminServer(metrics, readiness, logger);
    await server.listen({ port: options.adminPort, host: options.bindAddress });
    admin = server;
  }
  return {
    runtime,
    metrics,
    sourceFailed(message, where = {}) {
      sourceError = message;
      metrics.configReloads.labels('failure').inc();
      logger.error({ ...where, err: message }, 'configuration rejected, keeping last good config');
    },
    sourceOk() {
      sourceError = null;
    },
    close: async () => {
      draining = true;
      await runtime.close();
      await admin.close();
      await telemetry.tracing?.shutdown();
      await telemetry.accessLog?.close();
    },
  };
}
