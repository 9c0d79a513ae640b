import type { ProxyConfig, Route, VirtualHost } from '../../../proxy/src/config/schema.ts';
import { GATEWAY_GROUP } from '../resources/gateway-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { type Condition, condition } from './conditions.ts';
import { selectorMatches } from './labels.ts';
import { compareStrings } from './precedence.ts';
import type { PolicyAncestorStatus, StatusUpdate } from './status.ts';

/** GEP-713's tie-break between policies on the same target: the oldest wins, then by namespace/name. */
export function oldestFirst(
  a: { metadata: { creationTimestamp?: string | undefined; namespace?: string | undefined; name: string } },
  b: { metadata: { creationTimestamp?: string | undefined; namespace?: string | undefined; name: string } },
): number {
  return (
    compareStrings(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    compareStrings(a.metadata.namespace ?? 'default', b.metadata.namespace ?? 'default') ||
    compareStrings(a.metadata.name, b.metadata.name)
  );
}

/** A policy's status toward one Gateway (`namespace/name`). */
export function gatewayAncestor(
  gateway: string,
  controllerName: string,
  conditions: Condition[],
): PolicyAncestorStatus {
  const [namespace, name] = gateway.split('/') as [string, string];
  return {
    ancestorRef: { group: GATEWAY_GROUP, kind: 'Gateway', namespace, name },
    controllerName,
    conditions,
  };
}

/** How a route-level policy names its targets (SecurityPolicy, BackendTrafficPolicy). */
export interface RoutePolicyTargets {
  targetRefs?: { kind: Target['kind']; name: string; sectionName?: string | undefined }[] | undefined;
  targetSelectors?: { kind: Target['kind']; matchLabels?: Record<string, string> | undefined }[] | undefined;
}

/** How specific a target is: a route rule beats a route, which beats a listener, which beats a Gateway. */
export const Level = { Gateway: 0, Listener: 1, Route: 2, Rule: 3 } as const;
export type Level = (typeof Level)[keyof typeof Level];

/** A resolved target of a route-level policy. */
export interface Target {
  kind: 'Gateway' | 'HTTPRoute' | 'GRPCRoute';
  name: string;
  sectionName?: string | undefined;
  /** For a route rule target: the rule's index. */
  rule?: number;
}

/** A policy's targets that exist (sectionNames resolved to listeners or rule indexes), and those that do not. */
export function resolveTargets(
  policy: { spec: RoutePolicyTargets },
  namespace: string,
  resources: Resources,
): { targets: Target[]; missing: string[] } {
  const targets: Target[] = [];
  const missing: string[] = [];
  const inNamespace = <T extends { metadata: { namespace?: string | undefined } }>(list: T[]) =>
    list.filter((o) => (o.metadata.namespace ?? 'default') === namespace);
  const objectsOf = (kind: Target['kind']) =>
    kind === 'Gateway'
      ? inNamespace(resources.gateways)
      : kind === 'HTTPRoute'
        ? inNamespace(resources.httpRoutes)
        : inNamespace(resources.grpcRoutes);
  for (const ref of policy.spec.targetRefs ?? []) {
    const object = objectsOf(ref.kind).find((o) => o.metadata.name === ref.name);
    const described = `${ref.kind} ${namespace}/${ref.name}${ref.sectionName ? ` section ${ref.sectionName}` : ''}`;
    if (!object) {
      missing.push(described);
      continue;
    }
    if (ref.sectionName === undefined) {
      targets.push({ kind: ref.kind, name: ref.name });
      continue;
    }
    const sections =
      ref.kind === 'Gateway'
        ? (object as (typeof resources.gateways)[number]).spec.listeners.map((l) => l.name)
        : ((object as (typeof resources.httpRoutes)[number]).spec.rules ?? []).map((r) => r.name);
    const index = sections.indexOf(ref.sectionName);
    if (index < 0) missing.push(described);
    else
      targets.push({
        kind: ref.kind,
        name: ref.name,
        sectionName: ref.sectionName,
        ...(ref.kind === 'Gateway' ? {} : { rule: index }),
      });
  }
  for (const selector of policy.spec.targetSelectors ?? [])
    for (const object of objectsOf(selector.kind))
      if (selectorMatches({ matchLabels: selector.matchLabels }, object.metadata.labels ?? {}))
        targets.push({ kind: selector.kind, name: object.metadata.name });
  return { targets, missing };
}

/** The policies that apply to a route on a listener, most specific first (equals oldest first). */
export function candidatesFor<P extends { targets: Target[]; namespace: string }>(
  prepared: P[],
  config: ProxyConfig,
  listenerName: string | undefined,
  route: Route,
): { policy: P; level: Level }[] {
  const out: { policy: P; level: Level }[] = [];
  for (const policy of prepared) {
    let best: Level | undefined;
    for (const t of policy.targets) {
      const level = levelOf(t, policy.namespace, config, listenerName, route);
      if (level !== undefined && (best === undefined || level > best)) best = level;
    }
    if (best !== undefined) out.push({ policy, level: best });
  }
  // Stable: equals keep the oldest-first order of `prepared`.
  return out.sort((a, b) => b.level - a.level);
}

function levelOf(
  t: Target,
  namespace: string,
  config: ProxyConfig,
  listenerName: string | undefined,
  route: Route,
): Level | undefined {
  if (t.kind === 'Gateway') {
    if (config.gateway.namespace !== namespace || config.gateway.name !== t.name) return undefined;
    if (t.sectionName === undefined) return Level.Gateway;
    return t.sectionName === listenerName ? Level.Listener : undefined;
  }
  const ref = route.ref;
  if (ref.kind !== t.kind || ref.namespace !== namespace || ref.name !== t.name) return undefined;
  if (t.rule === undefined) return Level.Route;
  return t.rule === ref.rule ? Level.Rule : undefined;
}

/** What the status of a route-level policy is computed from. */
export interface PreparedRoutePolicy {
  key: string;
  policy: { metadata: { generation?: number | undefined; name: string } };
  namespace: string;
  targets: Target[];
  missing: string[];
  problems: string[];
  warnings: string[];
  /** What an invalid policy does to its routes, said in its status. */
  invalidMeans: string;
}

/** What happened to a policy on one Gateway: groups it won, lost to an equal, or lost to a more specific one. */
export interface Outcome {
  won: Set<string>;
  conflicted: Map<string, string>;
  overridden: Map<string, string>;
}

/**
 * A route-level policy's status: per Gateway it applies through, Accepted (or Invalid, or Conflicted
 * when an older policy on the same target set every field it sets) and Overridden when more specific
 * policies set some of its fields; where it applies nowhere, why, against the Gateways it names.
 */
export function statusOf(
  kind: 'SecurityPolicy' | 'BackendTrafficPolicy',
  p: PreparedRoutePolicy,
  byGateway: Map<string, Outcome> | undefined,
  configs: ProxyConfig[],
  controllerName: string,
): StatusUpdate {
  const generation = p.policy.metadata.generation;
  const ancestors: PolicyAncestorStatus[] = [];
  const ancestor = (gateway: string, conditions: Condition[]) =>
    ancestors.push(gatewayAncestor(gateway, controllerName, conditions));
  const gateways = [...(byGateway?.keys() ?? [])].sort(compareStrings);
  const missing = p.missing.length > 0 ? `targets not found: ${p.missing.join(', ')}` : undefined;
  for (const gateway of gateways) {
    const o = byGateway!.get(gateway)!;
    const conditions: Condition[] = [];
    if (p.problems.length > 0)
      conditions.push(
        condition('Accepted', false, 'Invalid', `${p.problems.join('; ')}; ${p.invalidMeans}`, generation),
      );
    else if (o.won.size === 0 && o.conflicted.size > 0)
      conditions.push(
        condition(
          'Accepted',
          false,
          'Conflicted',
          `every field is set by an older policy on the same target: ${describe(o.conflicted)}`,
          generation,
        ),
      );
    else
      conditions.push(
        condition(
          'Accepted',
          true,
          'Accepted',
          [
            'Policy is attached',
            ...(o.conflicted.size > 0 ? [`conflicted on ${describe(o.conflicted)}`] : []),
            ...(missing ? [missing] : []),
            ...p.warnings,
          ].join('; '),
          generation,
        ),
      );
    if (o.overridden.size > 0)
      conditions.push(
        condition(
          'Overridden',
          true,
          'Overridden',
          `more specific policies set ${describe(o.overridden)}`,
          generation,
        ),
      );
    ancestor(gateway, conditions);
  }
  if (gateways.length === 0) {
    // Attached nowhere: say why against each Gateway it names (or the first managed one it could reach).
    const reason = p.problems.length > 0 ? 'Invalid' : 'TargetNotFound';
    const message =
      p.problems.length > 0 ? p.problems.join('; ') : (missing ?? 'no target is served by a Sluice Gateway');
    const named = p.targets.filter((t) => t.kind === 'Gateway').map((t) => `${p.namespace}/${t.name}`);
    const anchors =
      named.length > 0
        ? named
        : configs
            .filter((c) => c.gateway.namespace === p.namespace)
            .map((c) => `${c.gateway.namespace}/${c.gateway.name}`);
    for (const gateway of [...new Set(anchors)].slice(0, 16))
      ancestor(gateway, [condition('Accepted', false, reason, message, generation)]);
  }
  return {
    kind,
    namespace: p.namespace,
    name: p.policy.metadata.name,
    status: { ancestors },
  };
}

function describe(groups: Map<string, string>): string {
  return [...groups].map(([g, by]) => `${g} (by ${by})`).join(', ');
}

/** What happened to each policy on each Gateway (policy key → Gateway → outcome). */
export class Outcomes {
  readonly #byPolicy = new Map<string, Map<string, Outcome>>();

  of(policy: string, gateway: string): Outcome {
    const byGateway = this.#byPolicy.get(policy) ?? new Map<string, Outcome>();
    this.#byPolicy.set(policy, byGateway);
    const found = byGateway.get(gateway) ?? { won: new Set(), conflicted: new Map(), overridden: new Map() };
    byGateway.set(gateway, found);
    return found;
  }

  forPolicy(policy: string): Map<string, Outcome> | undefined {
    return this.#byPolicy.get(policy);
  }
}

/**
 * For one route, per field group, the most specific (then oldest) candidate that sets it; the others
 * that set it are recorded as Conflicted (same level) or Overridden (less specific) on `gateway`.
 */
export function winnersFor<G extends string, P extends { key: string }>(
  candidates: { policy: P; level: Level }[],
  groups: readonly G[],
  sets: (policy: P, group: G) => boolean,
  outcomes: Outcomes,
  gateway: string,
): Map<G, { policy: P; level: Level }> {
  const winners = new Map<G, { policy: P; level: Level }>();
  for (const group of groups) {
    const setting = candidates.filter((c) => sets(c.policy, group));
    const top = setting[0];
    if (!top) continue;
    winners.set(group, top);
    outcomes.of(top.policy.key, gateway).won.add(group);
    for (const other of setting.slice(1)) {
      const o = outcomes.of(other.policy.key, gateway);
      if (other.level === top.level) o.conflicted.set(group, top.policy.key);
      else o.overridden.set(group, top.policy.key);
    }
  }
  return winners;
}

/**
 * Interns an effective entry under a name made of the policies it came from (`ns/a+ns/b`), with a
 * `#n` suffix when different content needs the same name; identical content shares one entry.
 */
export function internEntry<E extends { name: string }>(
  entries: Map<string, E>,
  base: string,
  entry: Omit<E, 'name'>,
): string {
  const body = JSON.stringify(entry);
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? base : `${base}#${n}`;
    const existing = entries.get(candidate);
    if (!existing) {
      entries.set(candidate, { name: candidate, ...entry } as E);
      return candidate;
    }
    const { name: _, ...rest } = existing;
    if (JSON.stringify(rest) === body) return candidate;
  }
}

/** Replaces every HTTP route of a config by what `visit` makes of it, given the listener it is served on. */
export function mapRoutes(
  config: ProxyConfig,
  vhostListener: ReadonlyMap<VirtualHost, string>,
  visit: (route: Route, listenerName: string | undefined) => Route,
): void {
  for (const listener of config.listeners)
    for (const vh of listener.virtualHosts) {
      const listenerName = vhostListener.get(vh);
      vh.routes = vh.routes.map((route) => visit(route, listenerName));
    }
}
