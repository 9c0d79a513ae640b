import { KubeRest, loadKubeConfig } from '../../../lib/src/kubernetes/kube-rest.ts';
import { type NamedObject, watchNamedObject } from '../../../lib/src/kubernetes/watch-object.ts';
import type { SecretData } from '../config/delivery.ts';
import { unpackConfig, unpackSecrets } from '../config/delivery.ts';
import { type ProxyHostOptions, startProxyHost } from '../runtime/proxy-host.ts';
import type { ProxyRuntime } from '../runtime/proxy-runtime.ts';

export interface KubernetesProxyOptions extends ProxyHostOptions {
  /** Path of a kubeconfig; unset: the pod's service account. */
  kubeconfig: string | undefined;
  namespace: string;
  configMap: string;
  secret: string;
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
  const host = await startProxyHost(
    options,
    `waiting for ConfigMap ${options.configMap} and Secret ${options.secret} in ${options.namespace}`,
  );

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
      host.sourceOk();
    } catch (err) {
      host.sourceFailed((err as Error).message, { configMap: `${options.namespace}/${options.configMap}` });
      return;
    }
    void host.runtime.apply(doc, secrets);
  };
  const base = `/api/v1/namespaces/${options.namespace}`;
  // A deleted object (its Gateway being removed) leaves the last config serving until shutdown.
  const follow = (collection: string, name: string, keep: (obj: NamedObject) => void) =>
    watchNamedObject(
      rest,
      `${base}/${collection}`,
      name,
      (obj) => {
        if (!obj) return;
        keep(obj);
        publish();
      },
      options.logger,
    );
  const watches = [
    follow('configmaps', options.configMap, (obj) => {
      configMap = obj;
    }),
    follow('secrets', options.secret, (obj) => {
      secret = obj;
    }),
  ];
  return {
    runtime: host.runtime,
    close: async () => {
      await Promise.all(watches.map((w) => w.stop()));
      await host.close();
      await rest.close();
    },
  };
}
