import type { IncomingMessage } from 'node:http';
import type { CredentialSource, JwtAuth, JwtProvider } from '../config/security.ts';
import { JwtVerifier } from '../identity/jwt.ts';
import type { RequestView } from '../routing/request-view.ts';
import { type AuthResult, REALM } from './auth-result.ts';
import { findCredential } from './credential-source.ts';

/** Where a token is looked for when a provider does not say: a bearer header, then `access_token`. */
const DEFAULT_SOURCES: CredentialSource[] = [
  { headers: [{ name: 'authorization', valuePrefix: 'Bearer ' }] },
  { params: ['access_token'] },
];
/**
 * Tokens beyond this are refused unread: parsing and signature costs grow with size, and real tokens
 * (even ones carrying group lists) stay well below it. Headers are capped at 16 KiB anyway.
 */
const MAX_TOKEN_BYTES = 8 * 1024;

/** A verified token: which provider accepted it, and its claims (for authorization rules). */
export interface VerifiedJwt {
  provider: string;
  claims: Record<string, unknown>;
}

export type JwtAuthResult = AuthResult & { jwt?: VerifiedJwt };

/**
 * Bearer JWTs verified with jose against each provider's keys (inline, or fetched and cached). The
 * token is valid when one provider verifies it; it is taken off the request before it goes upstream,
 * and the claims the provider names are copied into headers (a client's own copies are dropped).
 */
export class JwtAuthenticator {
  readonly #optional: boolean;
  readonly #providers: { config: JwtProvider; verifier: JwtVerifier; sources: CredentialSource[] }[];

  constructor(config: JwtAuth) {
    this.#optional = config.optional;
    this.#providers = config.providers.map((p) => ({
      config: p,
      verifier: new JwtVerifier(p),
      sources: p.extractFrom ? [p.extractFrom] : DEFAULT_SOURCES,
    }));
  }

  async authenticate(raw: IncomingMessage, view: RequestView): Promise<JwtAuthResult> {
    let failure: string | undefined;
    for (const provider of this.#providers) {
      for (const { header } of provider.config.claimToHeaders) delete raw.headers[header.toLowerCase()];
    }
    for (const provider of this.#providers) {
      const found = findCredential(raw, view, provider.sources);
      if (!found) continue;
      if (found.value.length > MAX_TOKEN_BYTES) {
        failure = 'token too large';
        continue;
      }
      const verified = await provider.verifier.verify(found.value);
      if (!verified.ok) {
        failure = verified.reason;
        continue;
      }
      found.remove();
      const claims = verified.claims;
      for (const { header, claim } of provider.config.claimToHeaders) {
        const value = claimValue(claims, claim);
        if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
          raw.headers[header.toLowerCase()] = String(value);
      }
      const consumer = claimValue(claims, provider.config.consumerClaim);
      const team = provider.config.teamClaim ? claimValue(claims, provider.config.teamClaim) : undefined;
      return {
        ok: true,
        caller:
          typeof consumer === 'string' && consumer !== ''
            ? { consumer, team: typeof team === 'string' ? team : '' }
            : undefined,
        jwt: { provider: provider.config.name, claims },
      };
    }
    if (failure !== undefined)
      return {
        ok: false,
        code: 'invalid_token',
        reason: failure,
        challenge: `Bearer realm="${REALM}", error="invalid_token", error_description="${failure}"`,
      };
    if (this.#optional) return { ok: true, caller: undefined };
    return {
      ok: false,
      code: 'missing_credentials',
      reason: 'no bearer token',
      challenge: `Bearer realm="${REALM}"`,
    };
  }
}

/** A claim by name; a dotted name (`realm.role`) walks nested objects when no top-level claim has it. */
export function claimValue(claims: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    // Own properties only: a claim named `constructor` or `__proto__` must not reach Object.prototype.
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
