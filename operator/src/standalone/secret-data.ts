import type { SecretData } from '../../../proxy/src/config/delivery.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { secretUses } from '../../../proxy/src/config/secret-refs.ts';
import { secretValues } from '../resources/core.ts';
import type { Resources } from '../resources/snapshot.ts';

/**
 * The Secrets a config names (`secretUses`: provider keys, API keys, listener certificates), and only
 * those: delivered to the proxy beside the config (in Kubernetes, as the Gateway's own Secret), never
 * inside it.
 */
export function secretDataFor(config: ProxyConfig, resources: Resources): SecretData {
  const wanted = new Set(secretUses(config).map((use) => use.secret));
  const out: Record<string, Record<string, string>> = {};
  for (const s of resources.secrets) {
    const name = `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
    if (wanted.has(name)) out[name] = secretValues(s);
  }
  return out;
}
