import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { formatProviderError, loadSource, type ProviderError } from '../provider/file/load-directory.ts';
import type { Resources } from '../resources/snapshot.ts';
import { type TranslationResult, translate } from '../translator/translate.ts';

export interface SourceTranslation {
  resources: Resources;
  result: TranslationResult;
  objectCount: number;
  /** Objects of kinds Sluice does not read, left out. */
  skipped: ProviderError[];
}

/** file provider → translator, failing with every provider error listed (file, object, field). */
export async function translateSource(source: string, controllerName: string): Promise<SourceTranslation> {
  const { resources, errors, skipped, objectCount } = await loadSource(source);
  if (errors.length > 0) throw new Error(errors.map(formatProviderError).join('\n'));
  return {
    resources,
    result: translate(resources, { controllerName, now: Date.now() }),
    objectCount,
    skipped,
  };
}

/** The one Gateway standalone mode serves: the one named, or the only one there is. */
export function pickGatewayConfig(configs: readonly ProxyConfig[], gateway: string | undefined): ProxyConfig {
  if (gateway) {
    const found = configs.find((c) => `${c.gateway.namespace}/${c.gateway.name}` === gateway);
    if (!found) throw new Error(`Gateway ${gateway} not found or not managed by Sluice`);
    return found;
  }
  if (configs.length === 1) return configs[0]!;
  if (configs.length === 0) throw new Error('no Gateway of a Sluice GatewayClass found');
  throw new Error(
    `several Gateways found (${configs.map((c) => `${c.gateway.namespace}/${c.gateway.name}`).join(', ')}); choose one with --gateway`,
  );
}
