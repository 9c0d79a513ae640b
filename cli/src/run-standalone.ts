import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatProviderError, STDIN_SOURCE } from '../../operator/src/provider/file/load-directory.ts';
import { watchDirectory } from '../../operator/src/provider/file/watch-directory.ts';
import { secretDataFor } from '../../operator/src/standalone/secret-data.ts';
import { pickGatewayConfig, translateSource } from '../../operator/src/standalone/snapshot-to-config.ts';
import { logStatuses } from '../../operator/src/status/log-sink.ts';
import type { SecretData } from '../../proxy/src/config/delivery.ts';
import type { ProxyConfig } from '../../proxy/src/config/schema.ts';
import { type ProxyHostOptions, startProxyHost } from '../../proxy/src/runtime/proxy-host.ts';
import type { ApplyResult } from '../../proxy/src/runtime/proxy-runtime.ts';

export interface StandaloneOptions extends ProxyHostOptions {
  /** A directory (read recursively) or one file. */
  source: string;
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
  if (options.source === STDIN_SOURCE)
    throw new Error('standalone serves a directory or a file it can watch, not standard input');
  // A single file is watched through its directory: editors replace files by rename.
  const watched = (await stat(options.source)).isDirectory() ? options.source : dirname(options.source);
  const host = await startProxyHost(options);
  const { runtime } = host;

  const reload = async (): Promise<ApplyResult | undefined> => {
    let config: ProxyConfig;
    let secrets: SecretData;
    try {
      const { resources, result, skipped } = await translateSource(options.source, options.controllerName);
      if (skipped.length > 0)
        logger.info(
          { skipped: skipped.map(formatProviderError) },
          `skipped ${skipped.length} objects Sluice does not read`,
        );
      logStatuses(logger, result.statuses);
      config = pickGatewayConfig(result.configs, options.gateway);
      secrets = secretDataFor(config, resources);
      host.sourceOk();
    } catch (err) {
      host.sourceFailed((err as Error).message, { source: options.source });
      return undefined;
    }
    return runtime.apply(config, secrets);
  };
  const first = await reload();
  if (first && !first.ok && first.cause === 'listen') {
    // At start a port that cannot open is fatal (say so and exit), not a "not ready" state that waits
    // for an edit; later, a new listener that cannot open leaves the served config in place.
    await host.close();
    throw new Error(`cannot start: ${first.error}`);
  }

  let running = Promise.resolve();
  const watcher = watchDirectory(watched, () => {
    running = running.then(async () => {
      await reload();
    });
  });

  return {
    reload: () => {
      running = running.then(async () => {
        await reload();
      });
      return running;
    },
    close: async () => {
      watcher.close();
      await running;
      await host.close();
    },
  };
}
