import { type RouteRef, routeInTarget } from '../config/route-ref.ts';
import type { CompiledGuard, Detector } from './compiled-guard.ts';
import { type GuardsByRole, guardsByRole } from './guard-request.ts';

/** The guards that apply to one route, split by what each request step needs. */
export interface RouteGuards {
  all: readonly CompiledGuard[];
  /** The guards and detectors of each role, for the request scan. */
  byRole: GuardsByRole;
  /** Guards with a webhook or moderation check. */
  external: readonly CompiledGuard[];
  /** Mask detectors of the guards that mask answers. */
  responseMaskers: readonly Detector[];
}

const NONE: RouteGuards = { all: [], byRole: new Map(), external: [], responseMaskers: [] };

/** A config's guards, resolved for every route when the config is compiled. */
export class GuardSet {
  readonly #byRoute = new Map<string, RouteGuards>();
  /** For a route the config does not name: the Gateway-wide guards. */
  readonly #unrouted: RouteGuards;

  constructor(guards: readonly CompiledGuard[], routes: ReadonlyMap<string, RouteRef>) {
    const forRoute = (ref: RouteRef | undefined): RouteGuards => {
      const all = guards.filter(
        (g) =>
          g.config.scope.kind === 'Gateway' ||
          (ref !== undefined && routeInTarget(ref, g.config.scope.route)),
      );
      if (all.length === 0) return NONE;
      return {
        all,
        byRole: guardsByRole(all),
        external: all.filter((g) => g.config.webhook || g.config.moderation),
        responseMaskers: all.filter((g) => g.config.maskResponses).flatMap((g) => g.maskers),
      };
    };
    for (const [name, ref] of routes) this.#byRoute.set(name, forRoute(ref));
    this.#unrouted = forRoute(undefined);
  }

  forRoute(routeName: string): RouteGuards {
    return this.#byRoute.get(routeName) ?? this.#unrouted;
  }
}
