import { loadKubeConfig } from '../../../lib/src/kubernetes/kube-config.ts';
import { KubeRest } from '../../../lib/src/kubernetes/kube-rest.ts';
import { type NamedObject, watchNamedObject } from '../../../lib/src/kubernetes/watch-object.ts';
import type { SecretData } from '../config/delivery.ts';
import { SECRETS_DIGEST_ANNOTATION, secretsDigest, unpackConfig, unpackSecrets } from '../config/delivery.ts';
import { type ProxyHostOptions, startProxyHost } from '../runtime/proxy-host.ts';
import type { ProxyRuntime } from '../runtime/proxy-runtime.ts';

export interface KubernetesProxyOptions extends ProxyHostOptions {
  /** Path of a kubeconfig; unset: the pod's service account. */
  kubeconfig: string | undefined;
  namespace: string;
  configMap: string;
  secret: string;
  /** How long a ConfigMap may wait for the Secret it names before that is reported (default 30 s). */
  pairingTimeoutMs?: number;
}

const PAIRING_TIMEOUT_MS = 30_000;

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

  const rest = new KubeRest(await loadKubeConfig(options.kubeconfig));
  let configMap: NamedObject | undefined;
  let secret: NamedObject | undefined;
  // Set while the ConfigMap names credentials the Secret does not hold yet.
  let unpaired: NodeJS.Timeout | undefined;
  const waitMs = options.pairingTimeoutMs ?? PAIRING_TIMEOUT_MS;
  const publish = () => {
    // Both must have arrived: a config applied before its credentials would be refused.
    if (!configMap || !secret) return;
    let doc: unknown;
    let secrets: SecretData;
    try {
      doc = unpackConfig(configMap.binaryData as Record<string, string> | undefined);
      secrets = unpackSecrets(secret.data as Record<string, string> | undefined);
    } catch (err) {
      host.sourceFailed((err as Error).message, { configMap: `${options.namespace}/${options.configMap}` });
      return;
    }
    const wanted = (configMap.metadata as { annotations?: Record<string, string> }).annotations?.[
      SECRETS_DIGEST_ANNOTATION
    ];
    const held = secretsDigest(secrets);
    if (wanted !== undefined && wanted !== held) {
      // The other half is on its way (the operator writes the two objects one after the other): wait
      // for it rather than refuse a config that is about to be valid, but not forever.
      unpaired ??= setTimeout(() => {
        host.sourceFailed(
          `ConfigMap ${options.configMap} expects credentials ${wanted} but Secret ${options.secret} ` +
            `holds ${held}, still after ${waitMs} ms`,
        );
      }, waitMs);
      return;
    }
    clearTimeout(unpaired);
    unpaired = undefined;
    host.sourceOk();
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
      clearTimeout(unpaired);
      await Promise.all(watches.map((w) => w.stop()));
      await host.close();
      await rest.close();
    },
  };
}
