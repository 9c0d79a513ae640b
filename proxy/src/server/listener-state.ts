import type { ListenerRouter } from '../routing/router.ts';
import type { SniTable } from '../tls/sni-table.ts';

/**
 * The live routing table of one listener. A config swap replaces `router` in one assignment; a
 * request reads it once on arrival and keeps that table to the end, so swaps never fail in-flight work.
 */
export interface ListenerState {
  router: ListenerRouter;
  /** HTTPS: the certificates by SNI, swapped like the router (rotation never restarts the port). */
  tls?: SniTable;
}
