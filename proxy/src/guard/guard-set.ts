import type { CompiledGuard, Detector } from './compiled-guard.ts';

/** The guards that apply to one route, split by what each request step needs. */
export interface RouteGuards {
  all: readonly CompiledGuard[];
  /** Guards with a webhook or moderation check. */
  external: readonly CompiledGuard[];
  /** Mask detectors of the guards that mask answers. */
  responseMaskers: readonly Detector[];
}

const NONE: RouteGuards = { all: [], external: [], responseMaskers: [] };

/**
 * A config's guards, resolved per route once (on its first request) instead of filtering every guard's
 * scope on every request.
 */
export class GuardSet {
  readonly #guards: readonly CompiledGuard[];
  readonly #byRoute = new Map<string, RouteGuards>();

  constructor(guards: readonly CompiledGuard[]) {
    this.#guards = guards;
  }

  forRoute(routeName: string): RouteGuards {
    if (this.#guards.length === 0) return NONE;
    let resolved = this.#byRoute.get(routeName);
    if (!resolved) {
      const all = this.#guards.filter(
        (g) => g.config.scope.kind === 'Gateway' || routeName.startsWith(g.config.scope.routePrefix),
      );
      resolved = {
        all,
        external: all.filter((g) => g.config.webhook || g.config.moderation),
        responseMaskers: all.filter((g) => g.config.maskResponses).flatMap((g) => g.maskers),
      };
      this.#byRoute.set(routeName, resolved);
    }
    return resolved;
  }
}
