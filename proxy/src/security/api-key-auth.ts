import type { IncomingMessage } from 'node:http';
import type { ApiKeyAuth } from '../config/security.ts';
import type { Caller } from '../identity/identify.ts';
import { KeyTable } from '../identity/key-digest.ts';
import type { RequestView } from '../routing/request-view.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { type AuthResult, REALM } from './auth-result.ts';
import { findCredential } from './credential-source.ts';

const CHALLENGE = `ApiKey realm="${REALM}"`;

/**
 * API keys from Secrets (each key of a Secret is a client ID, its value that client's key), held as
 * digests (KeyTable); a key is never logged, and with `sanitize` it is removed before the request
 * goes upstream.
 */
export class ApiKeyAuthenticator {
  readonly #config: ApiKeyAuth;
  readonly #clients = new KeyTable<Caller>();

  constructor(config: ApiKeyAuth, secrets: SecretStore) {
    this.#config = config;
    for (const client of config.clients) {
      const key = secrets.get(client.credentials);
      // Two clients with one key: the first keeps it (as Envoy Gateway does), so the key stays unambiguous.
      if (key) this.#clients.add(key, { consumer: client.clientId, team: client.team });
    }
  }

  authenticate(raw: IncomingMessage, view: RequestView): AuthResult {
    const found = findCredential(raw, view, this.#config.extractFrom);
    if (!found) return { ok: false, code: 'missing_credentials', reason: 'no API key', challenge: CHALLENGE };
    const caller = this.#clients.lookup(found.value);
    if (!caller) return { ok: false, code: 'invalid_api_key', challenge: CHALLENGE };
    if (this.#config.sanitize) found.remove();
    if (this.#config.forwardClientIDHeader)
      raw.headers[this.#config.forwardClientIDHeader.toLowerCase()] = caller.consumer;
    return { ok: true, caller };
  }
}
