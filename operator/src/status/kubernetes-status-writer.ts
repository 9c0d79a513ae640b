import type { KubeRest } from '../../../lib/src/kubernetes/kube-rest.ts';
import type { KubeObject } from '../provider/kubernetes/kube-object.ts';
import { collectionPath, WATCHED_KINDS } from '../provider/kubernetes/watched-kinds.ts';
import { jsonEqual } from '../resources/json-equal.ts';
import type { Condition } from '../translator/conditions.ts';
import type { RouteParentStatus, StatusUpdate } from '../translator/status.ts';
import { stampConditions, type TimedCondition } from './merge-conditions.ts';

type CurrentStatus = {
  conditions?: Partial<TimedCondition>[];
  listeners?: { name: string; conditions?: Partial<TimedCondition>[] }[];
  parents?: (RouteParentStatus & { conditions: Partial<TimedCondition>[] })[];
  [field: string]: unknown;
};

/**
 * The status an object should have: the translator's conditions with transition times carried over
 * from the current status, and, for routes, the parent entries other controllers own left untouched.
 */
export function desiredStatus(
  update: StatusUpdate,
  current: CurrentStatus | undefined,
  controllerName: string,
  now: string,
  gatewayAddresses: { type: string; value: string }[] = [],
): Record<string, unknown> {
  const stamp = (desired: Condition[], existing: Partial<TimedCondition>[] | undefined) =>
    stampConditions(desired, existing, now);
  switch (update.kind) {
    case 'GatewayClass':
      return {
        conditions: stamp(update.status.conditions, current?.conditions),
        supportedFeatures: update.status.supportedFeatures,
      };
    case 'Gateway':
      return {
        addresses: gatewayAddresses,
        conditions: stamp(update.status.conditions, current?.conditions),
        listeners: update.status.listeners.map((l) => ({
          ...l,
          conditions: stamp(l.conditions, current?.listeners?.find((c) => c.name === l.name)?.conditions),
        })),
      };
    case 'HTTPRoute':
    case 'GRPCRoute':
    case 'TCPRoute':
    case 'TLSRoute':
    case 'UDPRoute': {
      const others = (current?.parents ?? []).filter((p) => p.controllerName !== controllerName);
      const ours = update.status.parents.map((p) => ({
        ...p,
        conditions: stamp(
          p.conditions,
          current?.parents?.find(
            (c) => c.controllerName === controllerName && jsonEqual(c.parentRef, p.parentRef),
          )?.conditions,
        ),
      }));
      return { parents: [...others, ...ours] };
    }
    case 'BackendTLSPolicy':
    case 'SecurityPolicy':
    case 'ClientTrafficPolicy':
    case 'BackendTrafficPolicy': {
      // Like route parents: entries of other controllers stay, ours are replaced.
      const existing = (current?.ancestors ?? []) as {
        ancestorRef: unknown;
        controllerName: string;
        conditions: Partial<TimedCondition>[];
      }[];
      const ours = update.status.ancestors.map((a) => ({
        ...a,
        conditions: stamp(
          a.conditions,
          existing.find((c) => c.controllerName === controllerName && jsonEqual(c.ancestorRef, a.ancestorRef))
            ?.conditions,
        ),
      }));
      return { ancestors: [...existing.filter((a) => a.controllerName !== controllerName), ...ours] };
    }
    default:
      return { conditions: stamp(update.status.conditions, current?.conditions) };
  }
}

/** Route parent entries of ours on a route the translator no longer attaches anywhere: to remove. */
export function withoutOurParents(
  current: CurrentStatus | undefined,
  controllerName: string,
): CurrentStatus | undefined {
  const parents = current?.parents;
  if (!parents?.some((p) => p.controllerName === controllerName)) return undefined;
  return { parents: parents.filter((p) => p.controllerName !== controllerName) };
}

/** Writes status through the status subresource, and only when it differs from what is there. */
export class KubernetesStatusWriter {
  readonly #rest: KubeRest;
  writes = 0;

  constructor(rest: KubeRest) {
    this.#rest = rest;
  }

  /** Returns whether a write was needed. */
  async write(kind: string, current: KubeObject, status: Record<string, unknown>): Promise<boolean> {
    if (jsonEqual(stripUndefined(status), current.status ?? {})) return false;
    const watched = WATCHED_KINDS.find((k) => k.kind === kind);
    if (!watched) throw new Error(`no status path for kind ${kind}`);
    const path = `${collectionPath(watched, current.metadata.namespace)}/${current.metadata.name}/status`;
    // resourceVersion makes the patch conditional: a route whose parents another controller just
    // changed fails with 409 and is retried from the fresher cache instead of dropping their entry.
    await this.#rest.mergePatch(path, {
      metadata: { resourceVersion: current.metadata.resourceVersion },
      status,
    });
    this.writes++;
    return true;
  }
}

function stripUndefined(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}
