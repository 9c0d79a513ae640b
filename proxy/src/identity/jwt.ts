import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import type { JwtConfig } from '../config/budgets.ts';

/**
 * JWS algorithms accepted: asymmetric only, since verification keys are public (inline in the config
 * or fetched from the issuer). jose binds each algorithm to a matching key type and curve, enforces
 * `crit`, and refuses `alg: none` and HMAC with a public key.
 */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CLOCK_TOLERANCE_S = 60;
const VERIFIED_CACHE_SIZE = 4096;

/**
 * How remote key sets are cached: keys are re-fetched after `cacheMs`, or sooner when a token names an
 * unknown `kid` (a rotation), but never more often than the cooldown, so forged kids cannot make the
 * proxy hammer the issuer.
 */
const REMOTE_JWKS = { cacheMs: 10 * 60_000, cooldownMs: 30_000, timeoutMs: 5_000 };

/** A verifier's settings: issuer, audiences and keys, and for fetched keys how they are cached. */
export interface JwtVerifierConfig extends Pick<JwtConfig, 'issuer' | 'audiences' | 'jwks' | 'jwksUri'> {
  cacheMs?: number | undefined;
  timeoutMs?: number | undefined;
}

/**
 * Fetched key sets by URL, kept across config swaps (like upstream pools): a reload must not make
 * every replica fetch the issuer's keys again.
 */
const remoteKeySets = new Map<string, JWTVerifyGetKey>();
function remoteKeySet(uri: string, cacheMs: number, timeoutMs: number): JWTVerifyGetKey {
  const id = `${cacheMs}/${timeoutMs}/${uri}`;
  let keys = remoteKeySets.get(id);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(uri), {
      cacheMaxAge: cacheMs,
      cooldownDuration: Math.min(REMOTE_JWKS.cooldownMs, cacheMs),
      timeoutDuration: timeoutMs,
    });
    remoteKeySets.set(id, keys);
  }
  return keys;
}

export type JwtResult = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Verifies JWTs with jose against a JSON Web Key Set (inline, or fetched from `jwksUri` and cached),
 * then issuer, audience and validity times.
 */
export class JwtVerifier {
  readonly #keys: JWTVerifyGetKey;
  readonly #config: JwtVerifierConfig;
  /**
   * Tokens that verified, with their claims, until they expire or the keys they were checked against
   * could have changed (the key cache's age), whichever is first: a client repeating its token costs a
   * map lookup instead of a signature check. Bounded; the oldest entry goes first.
   */
  readonly #verified = new Map<string, { claims: Record<string, unknown>; until: number }>();
  readonly #trustMs: number;

  constructor(config: JwtVerifierConfig) {
    this.#config = config;
    this.#trustMs = config.cacheMs ?? REMOTE_JWKS.cacheMs;
    this.#keys = config.jwksUri
      ? remoteKeySet(
          config.jwksUri,
          config.cacheMs ?? REMOTE_JWKS.cacheMs,
          config.timeoutMs ?? REMOTE_JWKS.timeoutMs,
        )
      : createLocalJWKSet({ keys: config.jwks ?? [] } as JSONWebKeySet);
  }

  async verify(token: string): Promise<JwtResult> {
    const now = Date.now();
    const known = this.#verified.get(token);
    if (known && known.until > now) return { ok: true, claims: known.claims };
    if (known) this.#verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, this.#keys, {
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        ...(this.#config.issuer !== undefined ? { issuer: this.#config.issuer } : {}),
        ...(this.#config.audiences?.length ? { audience: this.#config.audiences } : {}),
      });
      const claims = payload as Record<string, unknown>;
      // Without the clock tolerance: a cached token is never honoured past its own exp.
      const until = Math.min(
        now + this.#trustMs,
        typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity,
      );
      if (this.#verified.size >= VERIFIED_CACHE_SIZE)
        this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, { claims, until });
      return { ok: true, claims };
    } catch (err) {
      return { ok: false, reason: reasonFor(err) };
    }
  }
}

/** What a caller is told about a refused token: the kind of failure, never key material. */
function reasonFor(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return 'wrong issuer';
    if (err.claim === 'aud') return 'wrong audience';
    if (err.claim === 'nbf') return 'not yet valid';
    return `claim ${err.claim} is not valid`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'signature does not verify';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return 'the signing keys could not be fetched';
  if (err instanceof errors.JOSENotSupported) return 'algorithm or key not supported';
  return 'malformed JWT';
}

/** A compact JWS looks like three base64url segments, the first a JSON header (`eyJ…`). */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && token.split('.').length === 3;
}
