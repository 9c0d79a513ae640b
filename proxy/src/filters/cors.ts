import type { IncomingMessage } from 'node:http';
import type { Cors } from '../config/security.ts';

/**
 * A route's cross-origin rules, compiled once. Preflights (OPTIONS with Origin and
 * Access-Control-Request-Method) are answered by the gateway; other requests from an allowed origin
 * get the CORS response headers. An origin that is not allowed gets no CORS headers at all, which is
 * what makes the browser refuse (the request itself is not the gateway's to refuse).
 */
export class CorsPolicy {
  readonly #config: Cors;
  readonly #anyOrigin: boolean;
  readonly #exact: Set<string>;
  readonly #patterns: RegExp[];
  readonly #methods: Set<string>;
  readonly #headers: Set<string>;

  constructor(config: Cors) {
    this.#config = config;
    this.#anyOrigin = config.allowOrigins.includes('*');
    const wildcards = config.allowOrigins.filter((o) => o !== '*' && o.includes('*'));
    this.#exact = new Set(config.allowOrigins.filter((o) => !o.includes('*')).map((o) => o.toLowerCase()));
    this.#patterns = wildcards.map(originPattern);
    this.#methods = new Set(config.allowMethods.map((m) => m.toUpperCase()));
    this.#headers = new Set(config.allowHeaders.map((h) => h.toLowerCase()));
  }

  static isPreflight(raw: IncomingMessage): boolean {
    return (
      raw.method === 'OPTIONS' &&
      typeof raw.headers.origin === 'string' &&
      typeof raw.headers['access-control-request-method'] === 'string'
    );
  }

  /** The headers of the gateway's answer to a preflight: CORS headers only if everything asked is allowed. */
  preflight(raw: IncomingMessage): Record<string, string> {
    const origin = raw.headers.origin as string;
    const method = (raw.headers['access-control-request-method'] as string).trim().toUpperCase();
    const asked = (headerString(raw.headers['access-control-request-headers']) ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean);
    const base = { vary: 'Origin' };
    const c = this.#config;
    const anyMethod = this.#methods.has('*');
    const anyHeader = this.#headers.has('*');
    if (!this.#allowsOrigin(origin)) return base;
    if (!anyMethod && !this.#methods.has(method) && !SAFELISTED_METHODS.has(method)) return base;
    if (!anyHeader && !asked.every((h) => this.#headers.has(h))) return base;
    // `*` is only meaningful to browsers without credentials; with them, echo what was asked.
    const methods = anyMethod ? (c.allowCredentials ? method : '*') : c.allowMethods.join(', ');
    const headers = anyHeader ? (c.allowCredentials ? asked.join(', ') : '*') : c.allowHeaders.join(', ');
    return {
      ...base,
      ...this.#originHeaders(origin),
      ...(methods ? { 'access-control-allow-methods': methods } : {}),
      ...(headers ? { 'access-control-allow-headers': headers } : {}),
      ...(c.maxAgeSeconds !== undefined ? { 'access-control-max-age': String(c.maxAgeSeconds) } : {}),
      ...this.#exposeHeaders(),
    };
  }

  /** Headers added to an ordinary response to a request that came with an Origin; none for a refused origin. */
  responseHeaders(origin: string): Record<string, string> | undefined {
    if (!this.#allowsOrigin(origin)) return undefined;
    return { ...this.#originHeaders(origin), vary: 'Origin', ...this.#exposeHeaders() };
  }

  /** Sent on preflights as well as responses: Envoy does, and the Gateway API conformance suite expects it. */
  #exposeHeaders(): Record<string, string> {
    const c = this.#config;
    // Browsers ignore an expose-headers `*` on a credentialed request, so it is not sent then.
    const expose = c.allowCredentials ? c.exposeHeaders.filter((h) => h !== '*') : c.exposeHeaders;
    return expose.length > 0 ? { 'access-control-expose-headers': expose.join(', ') } : {};
  }

  #originHeaders(origin: string): Record<string, string> {
    // With credentials the browser needs the origin itself, never `*`.
    const echo = this.#config.allowCredentials || !this.#anyOrigin;
    return {
      'access-control-allow-origin': echo ? origin : '*',
      ...(this.#config.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    };
  }

  #allowsOrigin(origin: string): boolean {
    if (this.#anyOrigin) return true;
    const lower = origin.toLowerCase();
    return this.#exact.has(lower) || this.#patterns.some((p) => p.test(lower));
  }
}

/** Methods a browser may always use cross-origin (Fetch standard), whatever the policy lists. */
const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);

/** `https://*.example.com` → a pattern where `*` stands for one or more DNS labels, nothing else. */
function originPattern(wildcard: string): RegExp {
  const parts = wildcard
    .toLowerCase()
    .split('*')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${parts.join('[a-z0-9-]+(?:\\.[a-z0-9-]+)*')}$`);
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}
