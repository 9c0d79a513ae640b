import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { JwtConfig } from '../config/budgets.ts';

/** JWS algorithms accepted: asymmetric only, since the verification keys sit in the (public) config. */
const ALGORITHMS: Record<string, { hash: string; kty: string; dsaEncoding?: 'ieee-p1363'; pss?: boolean }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', dsaEncoding: 'ieee-p1363' },
  ES384: { hash: 'sha384', kty: 'EC', dsaEncoding: 'ieee-p1363' },
  EdDSA: { hash: '', kty: 'OKP' },
};
const LEEWAY_S = 60;

interface VerificationKey {
  kid: string | undefined;
  kty: string;
  key: KeyObject;
}

export type JwtResult = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/** Verifies JWTs against a JSON Web Key Set, then issuer, audience and validity times. */
export class JwtVerifier {
  readonly #keys: VerificationKey[];
  readonly #config: JwtConfig;

  constructor(config: JwtConfig) {
    this.#config = config;
    this.#keys = config.jwks.map((jwk) => ({
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      kty: String(jwk.kty),
      key: createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }),
    }));
  }

  verify(token: string, nowS = Date.now() / 1000): JwtResult {
    const parts = token.split('.');
    if (parts.length !== 3) return { ok: false, reason: 'not a JWT' };
    const [h, p, sig] = parts as [string, string, string];
    let header: { alg?: string; kid?: string };
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed JWT' };
    }
    const alg = ALGORITHMS[header.alg ?? ''];
    if (!alg) return { ok: false, reason: `algorithm ${header.alg} not accepted` };
    const candidates = this.#keys.filter(
      (k) => k.kty === alg.kty && (header.kid === undefined || k.kid === header.kid),
    );
    const input = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(sig, 'base64url');
    const valid = candidates.some((k) =>
      verify(
        alg.hash || null,
        input,
        {
          key: k.key,
          ...(alg.dsaEncoding ? { dsaEncoding: alg.dsaEncoding } : {}),
          ...(alg.pss ? { padding: 6, saltLength: 32 } : {}),
        },
        signature,
      ),
    );
    if (!valid) return { ok: false, reason: 'signature does not verify' };
    if (typeof claims.exp === 'number' && nowS > claims.exp + LEEWAY_S)
      return { ok: false, reason: 'expired' };
    if (typeof claims.nbf === 'number' && nowS < claims.nbf - LEEWAY_S)
      return { ok: false, reason: 'not yet valid' };
    if (this.#config.issuer !== undefined && claims.iss !== this.#config.issuer)
      return { ok: false, reason: 'wrong issuer' };
    const audiences = this.#config.audiences;
    if (audiences && audiences.length > 0) {
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => audiences.includes(String(a)))) return { ok: false, reason: 'wrong audience' };
    }
    return { ok: true, claims };
  }
}

/** A compact JWS looks like three base64url segments, the first a JSON header (`eyJ…`). */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && token.split('.').length === 3;
}
