import { Pool } from 'undici';

export interface UpstreamEndpoint {
  origin: string;
  host: string;
  port: number;
  pool: Pool;
}

/**
 * Keep-alive connection pools per upstream origin. Pools outlive config swaps: an endpoint that stays
 * in the new config keeps its warm connections; one that leaves is closed once its requests finish.
 */
export class PoolRegistry {
  readonly #pools = new Map<string, UpstreamEndpoint>();
  readonly #connections: number;

  // Streamed completions hold a connection for their whole length: thousands may be open at once.
  constructor(connectionsPerOrigin = 8192) {
    this.#connections = connectionsPerOrigin;
  }

  endpoint(host: string, port: number): UpstreamEndpoint {
    return this.forOrigin(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  }

  /** A pool for any origin; `https:` origins verify the server certificate against the system roots. */
  forOrigin(origin: string): UpstreamEndpoint {
    let ep = this.#pools.get(origin);
    if (!ep) {
      const url = new URL(origin);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const pool = new Pool(origin, {
        connections: this.#connections,
        pipelining: 1,
        keepAliveTimeout: 30_000,
        // Timeouts are the route's business (HTTPRoute timeouts); undici's defaults would cut
        // long-running upstream responses such as streamed completions.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      ep = { origin, host, port, pool };
      this.#pools.set(origin, ep);
    }
    return ep;
  }

  /** Closes pools whose origin is not in `keep`; in-flight requests on them complete first. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [origin, ep] of this.#pools) {
      if (keep.has(origin)) continue;
      this.#pools.delete(origin);
      void ep.pool.close().catch(() => {});
    }
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((ep) => ep.pool.close().catch(() => {})));
  }
}
