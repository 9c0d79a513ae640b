import type { Logger } from 'pino';
import { buildAdminServer } from '../admin/build-admin-server.ts';
import { unpackConfig, unpackSecrets } from '../config/delivery.ts';
import { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import { ProxyRuntime } from '../runtime/proxy-runtime.ts';
import type { SecretData } from '../secrets/secret-store.ts';
import { KubeRest, loadKubeConfig } from './kube-rest.ts';
import { type NamedObject, watchNamedObject } from './watch-object.ts';

export interface KubernetesProxyOptions {
  /** Path of a kubeconfig; unset: the pod's service account. */
  kubeconfig: string | undefined;
  namespace: string;
  configMap: string;
  secret: string;
  bindAddress: string;
  adminPort: number;
  maxHeaderBytes: number;
  maxBodyBytes: number;
  redisUrl?: string | undefined;
  logger: Logger;
}

export interface KubernetesProxy {
  runtime: ProxyRuntime;
  close(): Promise<void>;
}

/**
 * The proxy in a pod: watches the ConfigMap and Secret its operator publishes and hot-swaps on every
 * change. When the API server or the operator is gone the watches retry in the background and the
 * proxy goes on serving its last good config; a config it cannot read or validate is refused the
 * same way (metric, log, /readyz detail), never half-applied.
 */
export async function runKubernetesProxy(options: KubernetesProxyOptions): Promise<KubernetesProxy> {
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
  let sourceError: string | null =
    `waiting for ConfigMap ${options.configMap} and Secret ${options.secret} in ${options.namespace}`;
  const admin = buildAdminServer(
    metrics,
    () => ({ ready: runtime.ready, detail: { ...runtime.readinessDetail(), sourceError } }),
    logger,
  );
  await admin.listen({ port: options.adminPort, host: options.bindAddress });

  const rest = new KubeRest(loadKubeConfig(options.kubeconfig));
  let configMap: NamedObject | undefined;
  let secret: NamedObject | undefined;
  const publish = () => {
    // Both must have arrived: a config applied before its credentials would be refused.
    if (!configMap || !secret) return;
    let doc: unknown;
    let secrets: SecretData;
    try {
      doc = unpackConfig(configMap.binaryData as Record<string, string> | undefined);
      secrets = unpackSecrets(secret.data as Record<string, string> | undefined);
      sourceError = null;
    } catch (err) {
      sourceError = (err as Error).message;
      metrics.configReloads.labels('failure').inc();
      logger.error(
        { configMap: options.configMap, err: sourceError },
        'configuration rejected, keeping last good config',
      );
      return;
    }
    void runtime.apply(doc, secrets);
  };
  const base = `/api/v1/namespaces/${options.namespace}`;
  const watches = [
    watchNamedObject(
      rest,
      `${base}/configmaps`,
      options.configMap,
      (obj) => {
        // A deleted ConfigMap (Gateway being removed) leaves the last config serving until shutdown.
        if (!obj) return;
        configMap = obj;
        publish();
      },
      logger,
    ),
    watchNamedObject(
      rest,
      `${base}/secrets`,
      options.secret,
      (obj) => {
        if (!obj) return;
        secret = obj;
        publish();
      },
      logger,
    ),
  ];
  return {
    runtime,
    close: async () => {
      await Promise.all(watches.map((w) => w.stop()));
      await runtime.close();
      await admin.close();
      await rest.close();
    },
  };
}
