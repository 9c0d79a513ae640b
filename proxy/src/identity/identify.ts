import type { IncomingHttpHeaders } from 'node:http';
import type { IdentityConfig, JwtConfig } from '../config/budgets.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { JwtVerifier, looksLikeJwt } from './jwt.ts';
import { KeyTable } from './key-digest.ts';

/** Who is calling; both empty for an anonymous caller. */
export interface Caller {
  consumer: string;
  team: string;
}

export type IdentityResult =
  | { ok: true; caller: Caller; authenticated: boolean }
  | { ok: false; error: 'invalid_api_key' | 'invalid_token'; reason?: string };

export const ANONYMOUS: Caller = { consumer: '', team: '' };

/**
 * Identifies callers by API key (Authorization: Bearer … or x-api-key) or by trusted headers. Keys are
 * held only as SHA-256 digests, looked up by digest and compared in constant time; they are never
 * logged. A presented key that matches no consumer is refused, even where identity is optional.
 */
export class Identifier {
  readonly #keys = new KeyTable<Caller>();
  readonly #trusted: IdentityConfig['trustedHeaders'];
  readonly #jwt: { verifier: JwtVerifier; config: JwtConfig } | undefined;

  constructor(config: IdentityConfig | undefined, secrets: SecretStore) {
    this.#trusted = config?.trustedHeaders;
    this.#jwt = config?.jwt ? { verifier: new JwtVerifier(config.jwt), config: config.jwt } : undefined;
    for (const k of config?.apiKeys ?? []) {
      const value = secrets.get(k.credentials);
      if (value !== undefined) this.#keys.add(value, { consumer: k.consumer, team: k.team });
    }
  }

  async identify(headers: IncomingHttpHeaders): Promise<IdentityResult> {
    const presented = apiKeyOf(headers);
    const jwt = this.#jwt;
    if (presented !== undefined && jwt && looksLikeJwt(presented)) {
      const verified = await jwt.verifier.verify(presented);
      if (!verified.ok) return { ok: false, error: 'invalid_token', reason: verified.reason };
      const consumer = verified.claims[jwt.config.consumerClaim];
      if (typeof consumer !== 'string' || consumer === '')
        return { ok: false, error: 'invalid_token', reason: `no ${jwt.config.consumerClaim} claim` };
      const team = jwt.config.teamClaim ? verified.claims[jwt.config.teamClaim] : undefined;
      return {
        ok: true,
        caller: { consumer, team: typeof team === 'string' ? team : '' },
        authenticated: true,
      };
    }
    if (presented !== undefined && this.#keys.size > 0) {
      const caller = this.#keys.lookup(presented);
      if (!caller) return { ok: false, error: 'invalid_api_key' };
      return { ok: true, caller, authenticated: true };
    }
    const trusted = this.#trusted;
    if (trusted) {
      const consumer = headerString(headers[trusted.consumer.toLowerCase()]);
      if (consumer) {
        const team = trusted.team ? (headerString(headers[trusted.team.toLowerCase()]) ?? '') : '';
        return { ok: true, caller: { consumer, team }, authenticated: true };
      }
    }
    return { ok: true, caller: ANONYMOUS, authenticated: false };
  }
}

function apiKeyOf(headers: IncomingHttpHeaders): string | undefined {
  const auth = headerString(headers.authorization);
  if (auth?.toLowerCase().startsWith('bearer ')) return auth.slice(7).trim();
  return headerString(headers['x-api-key']);
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
