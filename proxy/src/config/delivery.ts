import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * How a proxy config and its credentials travel through the Kubernetes API: the config gzipped in a
 * ConfigMap's binaryData (objects are capped at 1 MiB; a Gateway with 10,000 routes fits compressed),
 * the credentials in a Secret with one key per source Secret. The operator packs, the proxy unpacks;
 * both sides import this file so the format has one definition.
 */
/** Secret material delivered beside the config (never inside it): `namespace/name` → key → value. */
export type SecretData = Readonly<Record<string, Readonly<Record<string, string>>>>;

export const CONFIG_DATA_KEY = 'config.json.gz';

/** Packed configs by config object: a config is never changed once built (one snapshot per swap). */
const packed = new WeakMap<object, string>();

/**
 * gzip has no timestamp here (zlib writes mtime 0), so equal configs pack to equal bytes. Level 9
 * keeps 10,000 routes under the 1 MiB object limit; it costs ~30 ms for 1,000 routes, so the same
 * config object is packed once however often its Gateway is reconciled.
 */
export function packConfig(config: object): string {
  let text = packed.get(config);
  if (text === undefined) {
    text = gzipSync(JSON.stringify(config), { level: 9 }).toString('base64');
    packed.set(config, text);
  }
  return text;
}

export function unpackConfig(binaryData: Readonly<Record<string, string>> | undefined): unknown {
  const packed = binaryData?.[CONFIG_DATA_KEY];
  if (packed === undefined) throw new Error(`the ConfigMap has no binaryData key ${CONFIG_DATA_KEY}`);
  let text: string;
  try {
    text = gunzipSync(Buffer.from(packed, 'base64')).toString('utf8');
  } catch (err) {
    throw new Error(`binaryData ${CONFIG_DATA_KEY} is not gzip: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`binaryData ${CONFIG_DATA_KEY} is not JSON: ${(err as Error).message}`);
  }
}

/**
 * Secret keys are `<namespace>.<name>` of the source Secret (a namespace has no dots, so the split is
 * unambiguous); each value is the JSON object of that Secret's keys and values.
 */
export function packSecrets(secrets: SecretData): Record<string, string> {
  const data: Record<string, string> = {};
  for (const name of Object.keys(secrets).sort()) {
    const values = secrets[name]!;
    const sorted = Object.fromEntries(
      Object.keys(values)
        .sort()
        .map((k) => [k, values[k]!]),
    );
    data[name.replace('/', '.')] = Buffer.from(JSON.stringify(sorted)).toString('base64');
  }
  return data;
}

export function unpackSecrets(data: Readonly<Record<string, string>> | undefined): SecretData {
  const out: Record<string, Record<string, string>> = {};
  for (const [key, b64] of Object.entries(data ?? {})) {
    const dot = key.indexOf('.');
    if (dot <= 0) throw new Error(`Secret key ${key} is not <namespace>.<name>`);
    const values: unknown = JSON.parse(Buffer.from(b64, 'base64').toString('utf8'));
    if (typeof values !== 'object' || values === null || Array.isArray(values))
      throw new Error(`Secret key ${key} does not hold a JSON object`);
    out[`${key.slice(0, dot)}/${key.slice(dot + 1)}`] = values as Record<string, string>;
  }
  return out;
}

/**
 * ConfigMap annotation naming the credentials its config was rendered with. The ConfigMap and the
 * Secret are two API objects written one after the other and watched separately, so a proxy can see
 * a config before the credentials it needs (or the reverse); it applies only a pair whose Secret has
 * this digest, and waits for the other half otherwise.
 */
export const SECRETS_DIGEST_ANNOTATION = 'sluice.dev/secrets-digest';

/** sha256 of the packed (sorted, canonical) credentials: equal data, equal digest. */
export function secretsDigest(secrets: SecretData): string {
  const packed = packSecrets(secrets);
  return createHash('sha256')
    .update(JSON.stringify(Object.keys(packed).map((k) => [k, packed[k]])))
    .digest('hex')
    .slice(0, 32);
}
