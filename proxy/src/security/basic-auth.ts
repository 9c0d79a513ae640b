import type { IncomingMessage } from 'node:http';
import type { BasicAuth } from '../config/security.ts';
import { keyDigest } from '../identity/key-digest.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { type AuthResult, REALM } from './auth-result.ts';
import { htpasswdUsers } from './htpasswd.ts';

const CHALLENGE = `Basic realm="${REALM}", charset="UTF-8"`;
/** Verified credentials remembered, so bcrypt's deliberate cost is paid once per client, not per request. */
const VERIFIED_CACHE_SIZE = 4096;

/** HTTP Basic authentication against an htpasswd Secret (RFC 7617). */
export class BasicAuthenticator {
  readonly #config: BasicAuth;
  readonly #users: Map<string, (password: string) => Promise<boolean>>;
  /** Digests of `user:password` pairs that verified, oldest first (a Map keeps insertion order). */
  readonly #verified = new Map<string, string>();

  constructor(config: BasicAuth, secrets: SecretStore) {
    this.#config = config;
    this.#users = htpasswdUsers(secrets.get(config.users) ?? '');
  }

  async authenticate(raw: IncomingMessage): Promise<AuthResult> {
    const header = raw.headers.authorization;
    if (!header || !/^basic /i.test(header))
      return { ok: false, code: 'missing_credentials', reason: 'no Basic credentials', challenge: CHALLENGE };
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      return {
        ok: false,
        code: 'invalid_credentials',
        reason: 'malformed Basic credentials',
        challenge: CHALLENGE,
      };
    const username = decoded.slice(0, colon);
    const digest = keyDigest(decoded).toString('base64');
    if (!this.#verified.has(digest)) {
      const verify = this.#users.get(username);
      if (!verify || !(await verify(decoded.slice(colon + 1))))
        return { ok: false, code: 'invalid_credentials', challenge: CHALLENGE };
      if (this.#verified.size >= VERIFIED_CACHE_SIZE)
        this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(digest, username);
    }
    // The password stays with the gateway; the upstream learns who, if configured, not how.
    delete raw.headers.authorization;
    if (this.#config.forwardUsernameHeader)
      raw.headers[this.#config.forwardUsernameHeader.toLowerCase()] = username;
    return { ok: true, caller: { consumer: username, team: this.#config.team } };
  }
}
