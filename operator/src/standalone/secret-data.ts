import type { SecretData } from '../../../proxy/src/config/delivery.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { secretValues } from '../resources/core.ts';
import type { Resources } from '../resources/snapshot.ts';

/**
 * The secret values a config names (provider keys, API keys, listener certificates), and only those: delivered to the proxy beside the config (in
 * Kubernetes, as the Gateway's own Secret), never inside it.
 */
export function secretDataFor(config: ProxyConfig, resources: Resources): SecretData {
  const wanted = new Set([
    ...config.aiBackends.flatMap((b) =>
      b.targets.flatMap((t) => (t.credentials ? [t.credentials.secret] : [])),
    ),
    ...(config.identity?.apiKeys ?? []).map((k) => k.credentials.secret),
    ...config.listeners.flatMap((l) => (l.tls?.certificates ?? []).flatMap((c) => c.secrets)),
  ]);
  const out: Record<string, Record<string, string>> = {};
  for (const s of resources.secrets) {
    const name = `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
    if (wanted.has(name)) out[name] = secretValues(s);
  }
  return out;
}
