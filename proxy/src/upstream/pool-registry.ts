import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { type ConnectionOptions, rootCertificates } from 'node:tls';
import { type Dispatcher, Pool } from 'undici';
import type { ClusterTls } from '../config/schema.ts';
import { EndpointHealth } from './endpoint-health.ts';

/** Connection timeouts toward a backend (BackendTrafficPolicy `timeout`); undici's defaults otherwise. */
export interface PoolTimeouts {
  connectMs?: number | undefined;
  idleMs?: number | undefined;
}

export interface UpstreamEndpoint {
  /** Identifies the pool: the origin, plus the TLS trust settings when a BackendTLSPolicy sets them. */
  key: string;
  origin: string;
  host: string;
  port: number;
  pool: Pool;
  /** For connections made outside the pool (upgrades): TLS options, absent for plain HTTP. */
  tls: ConnectionOptions | undefined;
  /**
   * The TLS server name every request on this pool must use (the BackendTLSPolicy hostname, else
   * the origin's host name). undici would otherwise take SNI and certificate verification from each
   * request's Host header, which is the client's.
   */
  servername: string | undefined;
  /** In flight, in service or not: shared by every route using the endpoint, kept across swaps. */
  health: EndpointHealth;
}

/**
 * undici dispatch options for `endpoint`, pinned to its TLS server name (undici reads `servername`
 * from dispatch options although its types do not declare it).
 */
export function onEndpoint(
  endpoint: UpstreamEndpoint,
  options: Omit<Dispatcher.DispatchOptions, 'origin'>,
): Dispatcher.DispatchOptions {
  return {
    ...options,
    origin: endpoint.origin,
    ...(endpoint.servername ? { servername: endpoint.servername } : {}),
  } as Dispatcher.DispatchOptions;
}

/**
 * Keep-alive connection pools per upstream origin. Pools outlive config swaps: an endpoint that stays
 * in the new config keeps its warm connections; one that leaves is closed once its requests finish.
 */
export class PoolRegistry {
  readonly #pools = new Map<string, UpstreamEndpoint>();
  /** Health is the host's, not the pool's: pools of one origin (other TLS or timeouts) share it. */
  readonly #health = new Map<string, EndpointHealth>();
  readonly #connections: number;
  readonly #onHealthChange: (origin: string, usable: boolean) => void;

  // Streamed completions hold a connection for their whole length: thousands may be open at once.
  constructor(
    connectionsPerOrigin = 8192,
    onHealthChange: (origin: string, usable: boolean) => void = () => {},
  ) {
    this.#connections = connectionsPerOrigin;
    this.#onHealthChange = onHealthChange;
  }

  /**
   * A Service endpoint: plain HTTP, or verified TLS when the cluster has BackendTLSPolicy settings;
   * connection timeouts from a BackendTrafficPolicy give it a pool of its own.
   */
  endpoint(host: string, port: number, tls?: ClusterTls, timeouts?: PoolTimeouts): UpstreamEndpoint {
    return this.forOrigin(
      `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
      tls,
      timeouts,
    );
  }

  /**
   * A pool for any origin. `https:` origins verify the server certificate: against the system roots,
   * or with `tls`, against its CA bundle (plus the system roots if asked) for its server name.
   */
  forOrigin(origin: string, tls?: ClusterTls, timeouts?: PoolTimeouts): UpstreamEndpoint {
    let key = tls
      ? `${origin}|${createHash('sha256').update(JSON.stringify(tls)).digest('hex').slice(0, 16)}`
      : origin;
    if (timeouts?.connectMs !== undefined || timeouts?.idleMs !== undefined)
      key += `|connect=${timeouts.connectMs ?? ''}|idle=${timeouts.idleMs ?? ''}`;
    let ep = this.#pools.get(key);
    if (!ep) {
      const url = new URL(origin);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const connectTls = tls ? backendTlsOptions(tls) : undefined;
      const pool = new Pool(origin, {
        connections: this.#connections,
        pipelining: 1,
        keepAliveTimeout: timeouts?.idleMs ?? 30_000,
        // Timeouts are the route's business (HTTPRoute timeouts); undici's defaults would cut
        // long-running upstream responses such as streamed completions.
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(connectTls || timeouts?.connectMs !== undefined
          ? {
              connect: {
                ...connectTls,
                ...(timeouts?.connectMs !== undefined ? { timeout: timeouts.connectMs } : {}),
              },
            }
          : {}),
      });
      const https = url.protocol === 'https:';
      const sni = isIP(host) ? {} : { servername: host };
      ep = {
        key,
        origin,
        host,
        port,
        pool,
        tls: https ? (connectTls ?? sni) : undefined,
        servername: https ? (tls?.serverName ?? sni.servername) : undefined,
        health: this.#healthOf(origin),
      };
      this.#pools.set(key, ep);
    }
    return ep;
  }

  #healthOf(origin: string): EndpointHealth {
    let health = this.#health.get(origin);
    if (!health) {
      health = new EndpointHealth((usable) => this.#onHealthChange(origin, usable));
      this.#health.set(origin, health);
    }
    return health;
  }

  /** Closes pools whose key is not in `keep`; in-flight requests on them complete first. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, ep] of this.#pools) {
      if (keep.has(key)) continue;
      this.#pools.delete(key);
      void ep.pool.close().catch(() => {});
    }
    const origins = new Set([...this.#pools.values()].map((ep) => ep.origin));
    for (const origin of this.#health.keys()) if (!origins.has(origin)) this.#health.delete(origin);
  }

  /**
   * At shutdown, once the listeners have drained: whatever is still running upstream belongs to no
   * client any more (a stream the client reset mid-body, say), so it is cut rather than waited for.
   */
  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((ep) => ep.pool.destroy().catch(() => {})));
  }
}

/**
 * Node trusts only the `ca` it is given once one is given (even an empty list), so a policy without
 * CAs trusts nothing, and system roots are added explicitly when the policy asks for them too.
 */
function backendTlsOptions(tls: ClusterTls): { servername: string; ca: string[]; rejectUnauthorized: true } {
  return {
    servername: tls.serverName,
    ca: [...(tls.systemRoots ? rootCertificates : []), ...(tls.caPem ? [tls.caPem] : [])],
    rejectUnauthorized: true,
  };
}
