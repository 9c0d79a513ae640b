import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { ListenerTls } from '../config/schema.ts';
import { stripPort } from '../filters/redirect.ts';
import type { SecretStore } from '../secrets/secret-store.ts';

/** TLS 1.2 and 1.3 only; Node's default cipher list (no RC4, 3DES, export or NULL suites) applies. */
const TLS_DEFAULTS = { minVersion: 'TLSv1.2' } as const satisfies SecureContextOptions;

/**
 * The certificates of one HTTPS port, compiled once per config or Secret change: SNI → secure
 * context. Exact hostnames first, then wildcards from the longest suffix, then the listener without
 * a hostname, which also answers clients that send no SNI.
 */
export class SniTable {
  readonly #exact = new Map<string, SecureContext>();
  readonly #wildcards: { suffix: string; context: SecureContext }[] = [];
  #hasFallback = false;
  /** Options (not a context) because server.setSecureContext takes options. */
  readonly fallback: SecureContextOptions | undefined;
  readonly #fallbackContext: SecureContext | undefined;

  constructor(tls: ListenerTls, secrets: SecretStore) {
    let fallback: SecureContextOptions | undefined;
    for (const entry of tls.certificates) {
      const options: SecureContextOptions = {
        ...TLS_DEFAULTS,
        // Client certificates are checked against these CAs (only these: an empty list trusts none).
        ...(tls.clientValidation
          ? { ca: tls.clientValidation.caPem ? [tls.clientValidation.caPem] : [] }
          : {}),
        cert: entry.secrets.map((s) => required(secrets, s, 'tls.crt')),
        key: entry.secrets.map((s) => required(secrets, s, 'tls.key')),
      };
      const context = createSecureContext(options);
      if (entry.hostname === '*') fallback = options;
      else if (entry.hostname.startsWith('*.'))
        this.#wildcards.push({ suffix: entry.hostname.slice(1), context });
      else this.#exact.set(entry.hostname, context);
    }
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    this.fallback = fallback;
    this.#hasFallback = fallback !== undefined;
    this.#fallbackContext = fallback ? createSecureContext(fallback) : undefined;
  }

  lookup(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact) return exact;
    for (const w of this.#wildcards)
      if (name.endsWith(w.suffix) && name.length > w.suffix.length) return w.context;
    return this.#fallbackContext;
  }

  /**
   * Whether the listener the TLS handshake picked (by SNI) is the one the Host names. When another
   * listener of the port owns the Host (a client reusing a connection across names, HTTP/2
   * coalescing), the request must not be served under the wrong certificate and policies: 421.
   */
  servesHost(servername: string, host: string): boolean {
    return this.#listenerOf(servername.toLowerCase()) === this.#listenerOf(hostName(host));
  }

  /** The hostname of the listener whose certificate answers `name` (`*` the catch-all). */
  #listenerOf(name: string): string | undefined {
    if (this.#exact.has(name)) return name;
    for (const w of this.#wildcards)
      if (name.endsWith(w.suffix) && name.length > w.suffix.length) return `*${w.suffix}`;
    return this.#hasFallback ? '*' : undefined;
  }
}

/** A Host header's name: lower case, without port or trailing dot. */
function hostName(host: string): string {
  const name = stripPort(host).toLowerCase();
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function required(secrets: SecretStore, secret: string, key: string): string {
  const value = secrets.get({ secret, key });
  if (value === undefined) throw new Error(`certificate Secret ${secret} has no ${key}`);
  return value;
}
