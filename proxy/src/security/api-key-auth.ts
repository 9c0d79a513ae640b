import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiKeyAuth } from '../config/security.ts';
import type { Caller } from '../identity/identify.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { type AuthResult, REALM } from './auth-result.ts';
import { findCredential } from './credential-source.ts';

const CHALLENGE = `ApiKey realm="${REALM}"`;

/**
 * API keys from Secrets (each key of a Secret is a client ID, its value that client's key). Keys are
 * held only as SHA-256 digests, found by digest and compared in constant time; a key is never
 * logged, and with `sanitize` it is removed before the request goes upstream.
 */
export class ApiKeyAuthenticator {
  readonly #config: ApiKeyAuth;
  readonly #clients = new Map<string, { digest: Buffer; caller: Caller }>();

  constructor(config: ApiKeyAuth, secrets: SecretStore) {
    this.#config = config;
    for (const client of config.clients) {
      const key = secrets.get(client.credentials);
      if (!key) continue;
      const digest = sha256(key);
      const hex = digest.toString('hex');
      // Two clients with one key: the first keeps it (as Envoy Gateway does), so the key stays unambiguous.
      if (!this.#clients.has(hex))
        this.#clients.set(hex, { digest, caller: { consumer: client.clientId, team: client.team } });
    }
  }

  authenticate(raw: IncomingMessage, view: RequestView): AuthResult {
    const found = findCredential(raw, view, this.#config.extractFrom);
    if (!found) return { ok: false, code: 'missing_credentials', reason: 'no API key', challenge: CHALLENGE };
    const digest = sha256(found.value);
    const client = this.#clients.get(digest.toString('hex'));
    if (!client || !timingSafeEqual(client.digest, digest))
      return { ok: false, code: 'invalid_api_key', challenge: CHALLENGE };
    if (this.#config.sanitize) found.remove();
    if (this.#config.forwardClientIDHeader)
      raw.headers[this.#config.forwardClientIDHeader.toLowerCase()] = client.caller.consumer;
    return { ok: true, caller: client.caller };
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
