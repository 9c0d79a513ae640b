import type { Logger } from 'pino';
import { buildAdminServer } from '../../../proxy/src/admin/build-admin-server.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { ProxyMetrics } from '../../../proxy/src/metrics/proxy-metrics.ts';
import { ProxyRuntime } from '../../../proxy/src/runtime/proxy-runtime.ts';
import type { SecretData } from '../../../proxy/src/secrets/secret-store.ts';
import { watchDirectory } from '../provider/file/watch-directory.ts';
import { logStatuses } from '../status/log-sink.ts';
import { secretDataFor } from './secret-data.ts';
import { pickGatewayConfig, translateDirectory } from './snapshot-to-config.ts';

export interface StandaloneOptions {
  dir: string;
  gateway: string | undefined;
  controllerName: string;
  bindAddress: string;
  adminPort: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  redisUrl?: string | undefined;
  logger: Logger;
}

export interface Standalone {
  /** Re-reads the directory now (the watcher calls this on changes). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Standalone mode: the operator's pipeline with the file provider, an in-process config publisher and
 * a status sink that logs. A directory change re-runs it; a bad directory keeps the last good config.
 */
export async function runStandalone(options: StandaloneOptions): Promise<Standalone> {
  const { logger } = options;
  const metrics = new ProxyMetrics();
  const runtime = new ProxyRuntime({
    logger,
    metrics,
    bindAddress: options.bindAddress,
    maxHeaderBytes: options.maxHeaderBytes,
    maxBodyBytes: options.maxBodyBytes,
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
  });
  // The last error reading or translating the directory, shown by /readyz next to the proxy's own.
  let sourceError: string | null = null;
  const admin = buildAdminServer(
    metrics,
    () => ({ ready: runtime.ready, detail: { ...runtime.readinessDetail(), sourceError } }),
    logger,
  );
  await admin.listen({ port: options.adminPort, host: options.bindAddress });

  const reload = async (): Promise<void> => {
    let config: ProxyConfig;
    let secrets: SecretData;
    try {
      const { resources, result } = await translateDirectory(options.dir, options.controllerName);
      logStatuses(logger, result.statuses);
      config = pickGatewayConfig(result.configs, options.gateway);
      secrets = secretDataFor(config, resources);
      sourceError = null;
    } catch (err) {
      sourceError = (err as Error).message;
      metrics.configReloads.labels('failure').inc();
      logger.error(
        { dir: options.dir, err: (err as Error).message },
        'configuration rejected, keeping last good config',
      );
      return;
    }
    await runtime.apply(config, secrets);
  };
  await reload();

  let running = Promise.resolve();
  const watcher = watchDirectory(options.dir, () => {
    running = running.then(reload);
  });

  return {
    reload: () => {
      running = running.then(reload);
      return running;
    },
    close: async () => {
      watcher.close();
      await running;
      await runtime.close();
      await admin.close();
    },
  };
}
