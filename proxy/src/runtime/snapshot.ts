import type { AIContext } from '../ai/ai-context.ts';
import type { Listener } from '../config/schema.ts';
import type { StreamRouter } from '../l4/stream-router.ts';
import type { ListenerRouter } from '../routing/router.ts';
import type { CompiledSecurity } from '../security/compiled-security.ts';
import type { ServedPort } from '../server/listener-state.ts';
import type { SniTable } from '../tls/sni-table.ts';
import type { RouteControls } from '../traffic/route-traffic.ts';

/** What one port serves after a config compiles: requests (HTTP, HTTPS) or streams (TCP, TLS, UDP). */
export type CompiledListener =
  | { kind: 'http'; listener: Listener; router: ListenerRouter; tls: SniTable | undefined }
  | { kind: 'stream'; listener: Listener; router: StreamRouter };

/**
 * One compiled config with its credentials: every port's routing table and certificates and the AI
 * context and SecurityPolicies, built together and never changed afterwards. The runtime serves exactly one at a time and
 * replaces it by a single reference assignment.
 */
export class Snapshot {
  readonly hash: string;
  /** What each port serves, by portKey (`tcp/8080`, `udp/53`). */
  readonly ports: ReadonlyMap<string, CompiledListener>;
  readonly ai: AIContext;
  readonly security: ReadonlyMap<string, CompiledSecurity>;
  /** Traffic controls and retries of the routes that have them, by compiled route. */
  readonly controls: ReadonlyMap<object, RouteControls>;
  /** Upstream pools the snapshot's clusters and AI targets use (PoolRegistry keys). */
  readonly poolKeys: ReadonlySet<string>;
  readonly #served = new Map<string, ServedPort>();
  #inFlight = 0;
  #onIdle: (() => void) | undefined;

  constructor(
    hash: string,
    ports: ReadonlyMap<string, CompiledListener>,
    ai: AIContext,
    security: ReadonlyMap<string, CompiledSecurity>,
    controls: ReadonlyMap<object, RouteControls>,
    poolKeys: ReadonlySet<string>,
  ) {
    this.hash = hash;
    this.ports = ports;
    this.ai = ai;
    this.security = security;
    this.controls = controls;
    this.poolKeys = poolKeys;
    const enter = () => {
      this.#inFlight++;
    };
    const leave = () => {
      if (--this.#inFlight === 0) this.#onIdle?.();
    };
    for (const [key, port] of ports)
      if (port.kind === 'http')
        this.#served.set(key, { router: port.router, tls: port.tls, ai, security, controls, enter, leave });
  }

  /** The HTTP port `key` as this snapshot serves it (one object per port, made at compile time). */
  served(key: string): ServedPort | undefined {
    return this.#served.get(key);
  }

  /** Calls `onIdle` once no request runs on this snapshot any more (at once if none does now). */
  retire(onIdle: () => void): void {
    if (this.#inFlight === 0) onIdle();
    else this.#onIdle = onIdle;
  }
}
