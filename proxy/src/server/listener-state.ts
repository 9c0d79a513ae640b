import type { AIContext } from '../ai/ai-context.ts';
import type { ListenerRouter } from '../routing/router.ts';
import type { CompiledSecurity } from '../security/compiled-security.ts';
import type { SniTable } from '../tls/sni-table.ts';
import type { RouteControls } from '../traffic/route-traffic.ts';

/**
 * What one HTTP port serves under one config snapshot: its routing table, its certificates and the
 * AI context (credentials, identity, budgets, guards) compiled with them. All three come from the
 * same snapshot, so a request never sees a new route with old secrets or guards.
 */
export interface ServedPort {
  readonly router: ListenerRouter;
  /** HTTPS: the certificates by SNI. */
  readonly tls: SniTable | undefined;
  readonly ai: AIContext;
  /** Effective SecurityPolicies by name, compiled with this snapshot's credentials. */
  readonly security: ReadonlyMap<string, CompiledSecurity>;
  /** Rate limits, circuit breakers and retries of the routes that have them, by compiled route. */
  readonly controls: ReadonlyMap<object, RouteControls>;
  /**
   * Marks work (a request, a mirrored copy) as running on this snapshot until the matching `leave`:
   * pools the next snapshot no longer names are closed only once nothing on an older one can use them.
   */
  enter(): void;
  leave(): void;
}

/**
 * The live state of one HTTP port. A request calls `current()` once on arrival and keeps what it got
 * to the end; a config swap publishes a whole new snapshot in one assignment, so swaps never mix
 * parts of two configs and never fail in-flight work.
 */
export interface ListenerState {
  current(): ServedPort;
}
