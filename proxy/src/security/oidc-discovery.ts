/** The parts of an OpenID provider's metadata the gateway uses. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

/** Metadata is trusted this long before it is fetched again; a failed fetch is retried after RETRY_MS. */
const CACHE_MS = 10 * 60_000;
const RETRY_MS = 5000;
const TIMEOUT_MS = 5000;

/**
 * Discovered metadata by issuer, kept across config swaps (as remote key sets are): a reload must not
 * make every replica ask the provider again. Concurrent first requests share one fetch.
 */
const discovered = new Map<string, { until: number; metadata: Promise<ProviderMetadata | undefined> }>();

/** `{issuer}/.well-known/openid-configuration`, checked to name the same issuer (OpenID Discovery §4.3). */
export function providerMetadata(issuer: string): Promise<ProviderMetadata | undefined> {
  const now = Date.now();
  const known = discovered.get(issuer);
  if (known && known.until > now) return known.metadata;
  const entry = { until: now + CACHE_MS, metadata: fetchMetadata(issuer) };
  discovered.set(issuer, entry);
  void entry.metadata.then((m) => {
    if (!m) entry.until = Date.now() + RETRY_MS;
  });
  return entry.metadata;
}

async function fetchMetadata(issuer: string): Promise<ProviderMetadata | undefined> {
  try {
    const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) return undefined;
    const body = (await res.json()) as Partial<ProviderMetadata>;
    const usable =
      body.issuer === issuer &&
      typeof body.authorization_endpoint === 'string' &&
      typeof body.token_endpoint === 'string' &&
      typeof body.jwks_uri === 'string';
    return usable ? (body as ProviderMetadata) : undefined;
  } catch {
    return undefined;
  }
}
