import { watchDirectory } from '../../operator/src/provider/file/watch-directory.ts';
import { secretDataFor } from '../../operator/src/standalone/secret-data.ts';
import { pickGatewayConfig, translateDirectory } from '../../operator/src/standalone/snapshot-to-config.ts';
import { logStatuses } from '../../operator/src/status/log-sink.ts';
import type { SecretData } from '../../proxy/src/config/delivery.ts';
import type { ProxyConfig } from '../../proxy/src/config/schema.ts';
import { type ProxyHostOptions, startProxyHost } from '../../proxy/src/runtime/proxy-host.ts';

export interface StandaloneOptions extends ProxyHostOptions {
  dir: string;
  gateway: string | undefined;
  controllerName: string;
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
  const host = await startProxyHost(options);
  const { runtime } = host;

  const reload = async (): Promise<void> => {
    let config: ProxyConfig;
    let secrets: SecretData;
    try {
      const { resources, result } = await translateDirectory(options.dir, options.controllerName);
      logStatuses(logger, result.statuses);
      config = pickGatewayConfig(result.configs, options.gateway);
      secrets = secretDataFor(config, resources);
      host.sourceOk();
    } catch (err) {
      host.sourceFailed((err as Error).message, { dir: options.dir });
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
      await host.close();
    },
  };
}
