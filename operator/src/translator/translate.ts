import type { AIBackendConfig } from '../../../proxy/src/config/ai-backend.ts';
import {
  type Cluster,
  type Listener,
  PROXY_CONFIG_VERSION,
  type ProxyConfig,
  type VirtualHost,
} from '../../../proxy/src/config/schema.ts';
import { GATEWAY_GROUP, type Gateway, type HTTPRoute } from '../resources/gateway-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { translateAIBackends } from './ai-backends.ts';
import { attach, resolvedRefs, routeParentStatus } from './attachment.ts';
import { attachBackendTrafficPolicies } from './backend-traffic-policies.ts';
import { BackendResolver } from './backends.ts';
import { attachBudgets } from './budgets.ts';
import { CertificateResolver } from './certificates.ts';
import { attachClientTrafficPolicies } from './client-traffic-policies.ts';
import { type Condition, condition } from './conditions.ts';
import { grpcRouteAsHttp } from './grpc-routes.ts';
import { attachGuards, usablePromptGuards } from './guards.ts';
import { compareHostnameSpecificity, hostnameCovers } from './hostname-order.ts';
import { analyzeListeners, type ListenerInfo } from './listeners.ts';
import { comparePrecedence, compareStrings, type RankedRoute } from './precedence.ts';
import { type RuleProblem, type RuleTranslation, translateRule } from './rules.ts';
import { attachSecurityPolicies, policyAffectedCondition } from './security-policies.ts';
import type { RouteParentStatus, StatusUpdate } from './status.ts';
import { type StreamAttachment, translateStreamRoutes } from './stream-routes.ts';
import { SUPPORTED_FEATURES } from './supported-features.ts';

export interface TranslateOptions {
  /** GatewayClasses with this spec.controllerName are Sluice's. */
  controllerName: string;
  /** The time certificates are checked against (ms since the epoch): an input, to keep this pure. */
  now: number;
}

export interface TranslationResult {
  /** One config per managed Gateway, sorted by namespace/name. */
  configs: ProxyConfig[];
  /** Status for every managed object, sorted by kind, namespace and name. */
  statuses: StatusUpdate[];
}

interface RouteInfo {
  /** GRPCRoutes are translated as the HTTP routing they amount to, and keep their kind for status. */
  kind: 'HTTPRoute' | 'GRPCRoute';
  route: HTTPRoute;
  namespace: string;
  rules: RuleTranslation[];
  routeInvalid: RuleProblem | undefined;
  partiallyInvalid: RuleProblem | undefined;
  refProblem: RuleProblem | undefined;
  ranked: RankedRoute[];
}

interface Attachment {
  listener: ListenerInfo;
  info: RouteInfo;
  hostnames: string[];
}

/** Pure and deterministic: Gateway API objects in, proxy configs and statuses out. */
export function translate(resources: Resources, options: TranslateOptions): TranslationResult {
  const statuses: StatusUpdate[] = [];
  const classes = resources.gatewayClasses
    .filter((c) => c.spec.controllerName === options.controllerName)
    .sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
  for (const c of classes) {
    statuses.push({
      kind: 'GatewayClass',
      name: c.metadata.name,
      status: {
        conditions: [condition('Accepted', true, 'Accepted', 'Handled by Sluice', c.metadata.generation)],
        supportedFeatures: SUPPORTED_FEATURES.map((name) => ({ name })),
      },
    });
  }
  const classNames = new Set(classes.map((c) => c.metadata.name));
  const gateways = resources.gateways
    .filter((g) => classNames.has(g.spec.gatewayClassName))
    .sort((a, b) => compareStrings(nsName(a), nsName(b)));
  const gatewayByKey = new Map(gateways.map((g) => [nsName(g), g]));
  const namespaceLabels = new Map(
    resources.namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? {}]),
  );

  const ai = translateAIBackends(resources);
  statuses.push(...ai.statuses);
  const resolver = new BackendResolver(resources, new Set(ai.configs.keys()));
  const usableGuards = usablePromptGuards(resources);
  const routes = [
    ...[...resources.httpRoutes]
      .sort((a, b) => compareStrings(nsName(a), nsName(b)))
      .map((r) => analyzeRoute(r, 'HTTPRoute', resolver, usableGuards)),
    ...[...resources.grpcRoutes]
      .sort((a, b) => compareStrings(nsName(a), nsName(b)))
      .map((r) => analyzeRoute(grpcRouteAsHttp(r), 'GRPCRoute', resolver, usableGuards)),
  ];

  const certificates = new CertificateResolver(resources, options.now);
  const listenersByGateway = new Map(gateways.map((g) => [nsName(g), gatewayListeners(g, certificates)]));
  const attachments = new Map<string, Attachment[]>();
  const routeParents = new Map<string, RouteParentStatus[]>();

  for (const info of routes) {
    for (const ref of info.route.spec.parentRefs ?? []) {
      const group = ref.group ?? GATEWAY_GROUP;
      const kind = ref.kind ?? 'Gateway';
      if (group !== GATEWAY_GROUP || kind !== 'Gateway') continue;
      const gatewayKey = `${ref.namespace ?? info.namespace}/${ref.name}`;
      const gateway = gatewayByKey.get(gatewayKey);
      if (!gateway) continue;
      const listeners = listenersByGateway.get(gatewayKey)!;
      const generation = info.route.metadata.generation;
      const { accepted, attached } = attach(
        {
          kind: info.kind,
          namespace: info.namespace,
          generation,
          hostnames: info.route.spec.hostnames ?? [],
          invalid: info.routeInvalid,
        },
        ref,
        listeners,
        namespaceLabels,
        gateway,
      );
      for (const a of attached) {
        a.listener.attachedRoutes++;
        attachments.set(gatewayKey, [...(attachments.get(gatewayKey) ?? []), { ...a, info }]);
      }
      const conditions: Condition[] = [accepted, resolvedRefs(info.refProblem, generation)];
      if (info.partiallyInvalid && accepted.status === 'True')
        conditions.push(
          condition(
            'PartiallyInvalid',
            true,
            info.partiallyInvalid.reason,
            info.partiallyInvalid.message,
            generation,
          ),
        );
      const key = `${info.kind}/${nsName(info.route)}`;
      routeParents.set(key, [
        ...(routeParents.get(key) ?? []),
        routeParentStatus(ref, info.namespace, options.controllerName, conditions),
      ]);
    }
  }

  const streams = translateStreamRoutes(resources, {
    gatewayByKey,
    listenersByGateway,
    namespaceLabels,
    resolver,
    controllerName: options.controllerName,
  });
  statuses.push(...streams.statuses);

  const configs: ProxyConfig[] = [];
  /** The Gateway listener each virtual host serves, for policies that target a listener. */
  const vhostListener = new Map<VirtualHost, string>();
  for (const gateway of gateways) {
    const key = nsName(gateway);
    const listeners = listenersByGateway.get(key)!;
    const config = buildConfig(
      gateway,
      listeners,
      attachments.get(key) ?? [],
      streams.attachments.get(key) ?? [],
      resolver.clusters(),
      ai.configs,
      vhostListener,
    );
    configs.push(config);
    statuses.push({
      kind: 'Gateway',
      namespace: gateway.metadata.namespace ?? 'default',
      name: gateway.metadata.name,
      status: {
        conditions: gatewayConditions(gateway, listeners),
        listeners: listeners.map((l) => ({
          name: l.spec.name,
          supportedKinds: l.supportedKinds,
          attachedRoutes: l.attachedRoutes,
          conditions: l.conditions,
        })),
      },
    });
  }
  statuses.push(...resolver.tls.statuses(configs, options.controllerName));
  statuses.push(...attachBudgets(resources, configs));
  statuses.push(...attachClientTrafficPolicies(resources, configs, options.controllerName));
  statuses.push(...attachBackendTrafficPolicies(resources, configs, vhostListener, options.controllerName));
  const guardRefs = routes.flatMap((info) =>
    info.rules.flatMap((rule, i) =>
      rule.guards.map((guard) => ({
        guard,
        route: { kind: info.kind, namespace: info.namespace, name: info.route.metadata.name, rule: i },
      })),
    ),
  );
  statuses.push(...attachGuards(resources, configs, guardRefs, ai.configs));
  const security = attachSecurityPolicies(
    resources,
    configs,
    vhostListener,
    resolver,
    options.controllerName,
  );
  statuses.push(...security.statuses);
  for (const update of statuses) {
    if (update.kind !== 'Gateway') continue;
    const key = `${update.namespace}/${update.name}`;
    const affected = policyAffectedCondition(
      security.affected,
      `Gateway/${key}`,
      key,
      gatewayByKey.get(key)?.metadata.generation,
    );
    if (affected) update.status.conditions.push(affected);
  }
  for (const info of routes) {
    const parents = routeParents.get(`${info.kind}/${nsName(info.route)}`);
    for (const parent of parents ?? []) {
      const affected = policyAffectedCondition(
        security.affected,
        `${info.kind}/${nsName(info.route)}`,
        `${parent.parentRef.namespace}/${parent.parentRef.name}`,
        info.route.metadata.generation,
      );
      if (affected) parent.conditions.push(affected);
    }
    if (parents)
      statuses.push({
        kind: info.kind,
        namespace: info.namespace,
        name: info.route.metadata.name,
        status: { parents },
      });
  }
  statuses.sort(
    (a, b) =>
      compareStrings(a.kind, b.kind) ||
      compareStrings('namespace' in a ? a.namespace : '', 'namespace' in b ? b.namespace : '') ||
      compareStrings(a.name, b.name),
  );
  return { configs, statuses };
}

function analyzeRoute(
  route: HTTPRoute,
  kind: RouteInfo['kind'],
  resolver: BackendResolver,
  guards: ReadonlySet<string>,
): RouteInfo {
  const namespace = route.metadata.namespace ?? 'default';
  const specRules = route.spec.rules?.length ? route.spec.rules : [{}];
  const rules = specRules.map((rule, i) => translateRule(route, i, rule, resolver, guards, kind));
  const invalid = rules.flatMap((r) => (r.invalid ? [r.invalid] : []));
  const ranked: RankedRoute[] = [];
  rules.forEach((r, ruleIndex) => {
    r.routes.forEach((ir, matchIndex) => {
      ranked.push({
        route: ir,
        creationTimestamp: route.metadata.creationTimestamp ?? '',
        namespacedName: `${namespace}/${route.metadata.name}`,
        ruleIndex,
        matchIndex,
      });
    });
  });
  return {
    kind,
    route,
    namespace,
    rules,
    routeInvalid: invalid.length === rules.length ? invalid[0] : undefined,
    partiallyInvalid: invalid.length > 0 && invalid.length < rules.length ? invalid[0] : undefined,
    refProblem: rules.flatMap((r) => r.refProblems)[0],
    ranked,
  };
}

/** A Gateway that cannot be accepted programs none of its listeners, so no route attaches to it. */
function gatewayListeners(gateway: Gateway, certificates: CertificateResolver): ListenerInfo[] {
  const listeners = analyzeListeners(gateway, certificates);
  if (!gatewayRejection(gateway)) return listeners;
  return listeners.map((l) => ({
    ...l,
    accepted: false,
    valid: false,
    conditions: l.conditions.map((c) =>
      c.type === 'Programmed'
        ? condition('Programmed', false, 'Invalid', 'Gateway is not accepted', c.observedGeneration)
        : c,
    ),
  }));
}

/**
 * Why a Gateway as a whole cannot be accepted, whatever its listeners say: Sluice cannot honour
 * requested (static) addresses, and it defines no parameters kind, so any `infrastructure.parametersRef` names
 * something it cannot read (the Gateway API asks for InvalidParameters then).
 */
function gatewayRejection(
  gateway: Gateway,
): { reason: string; programmedReason: string; message: string } | undefined {
  // An IPAddress entry without a value asks for any address, which the load balancer gives anyway.
  const requested = (gateway.spec.addresses ?? []).filter(
    (a) => a.value || (a.type !== undefined && a.type !== 'IPAddress'),
  );
  if (requested.length)
    return {
      reason: 'UnsupportedAddress',
      programmedReason: 'AddressNotUsable',
      message: 'spec.addresses is not supported',
    };
  const ref = gateway.spec.infrastructure?.parametersRef;
  if (ref)
    return {
      reason: 'InvalidParameters',
      programmedReason: 'Invalid',
      message: `spec.infrastructure.parametersRef ${ref.group}/${ref.kind} ${ref.name}: Sluice takes no Gateway parameters object`,
    };
  return undefined;
}

function gatewayConditions(gateway: Gateway, listeners: ListenerInfo[]): Condition[] {
  const generation = gateway.metadata.generation;
  const rejection = gatewayRejection(gateway);
  if (rejection)
    return [
      condition('Accepted', false, rejection.reason, rejection.message, generation),
      condition('Programmed', false, rejection.programmedReason, rejection.message, generation),
    ];
  const valid = listeners.filter((l) => l.valid).length;
  const accepted =
    valid === listeners.length
      ? condition('Accepted', true, 'Accepted', 'Gateway is accepted', generation)
      : condition(
          'Accepted',
          valid > 0,
          'ListenersNotValid',
          `${listeners.length - valid} of ${listeners.length} listeners are not valid`,
          generation,
        );
  const programmed =
    valid > 0
      ? condition('Programmed', true, 'Programmed', 'Gateway is programmed', generation)
      : condition('Programmed', false, 'Invalid', 'Gateway has no valid listener', generation);
  return [accepted, programmed];
}

/** Assembles one Gateway's proxy config: a listener per port, a virtual host per hostname. */
function buildConfig(
  gateway: Gateway,
  listeners: ListenerInfo[],
  attachments: Attachment[],
  streamAttachments: StreamAttachment[],
  allClusters: Cluster[],
  allAIBackends: ReadonlyMap<string, AIBackendConfig>,
  vhostListener: Map<VirtualHost, string>,
): ProxyConfig {
  const usable = listeners.filter(
    (l) => l.valid && (l.spec.protocol === 'HTTP' || l.spec.protocol === 'HTTPS'),
  );
  const ports = [...new Set(usable.map((l) => l.spec.port))].sort((a, b) => a - b);
  const irListeners: Listener[] = ports.map((port) => {
    const onPort = usable.filter((l) => l.spec.port === port);
    // Listeners sharing a port share a protocol (others are Conflicted and not usable).
    const https = onPort[0]!.spec.protocol === 'HTTPS';
    return {
      name: `${gateway.metadata.namespace ?? 'default'}/${gateway.metadata.name}/${port}`,
      port,
      protocol: https ? 'HTTPS' : 'HTTP',
      ...(https
        ? {
            tls: {
              ...(onPort[0]!.clientValidation ? { clientValidation: onPort[0]!.clientValidation } : {}),
              certificates: onPort
                .map((l) => ({ hostname: l.spec.hostname ?? '*', secrets: l.certificates }))
                .sort((a, b) => compareHostnameSpecificity(a.hostname, b.hostname)),
            },
          }
        : {}),
      virtualHosts: virtualHostsForPort(onPort, attachments, vhostListener),
    };
  });
  irListeners.push(...streamListeners(gateway, listeners, streamAttachments));
  const used = new Set<string>();
  const usedAI = new Set<string>();
  for (const l of irListeners)
    for (const vh of l.virtualHosts)
      for (const r of vh.routes) {
        for (const b of r.backends) if (b.cluster) used.add(b.cluster);
        for (const m of r.mirrors) used.add(m.cluster);
        for (const b of r.aiBackends ?? []) if (b.aiBackend) usedAI.add(b.aiBackend);
      }
  for (const l of irListeners)
    for (const r of l.streamRoutes ?? []) for (const b of r.backends) if (b.cluster) used.add(b.cluster);
  return {
    version: PROXY_CONFIG_VERSION,
    gateway: { namespace: gateway.metadata.namespace ?? 'default', name: gateway.metadata.name },
    listeners: irListeners,
    clusters: allClusters.filter((c) => used.has(c.name)),
    aiBackends: [...allAIBackends.values()].filter((b) => usedAI.has(b.name)),
    budgets: [],
    guards: [],
  };
}

/**
 * TCP, TLS (passthrough) and UDP ports: the routes attached to any listener on the port, oldest first
 * (the one a TCP or UDP port serves when several attach).
 */
function streamListeners(
  gateway: Gateway,
  listeners: ListenerInfo[],
  attachments: StreamAttachment[],
): Listener[] {
  const usable = listeners.filter((l) => l.valid && ['TCP', 'TLS', 'UDP'].includes(l.spec.protocol));
  const byPort = new Map<string, ListenerInfo[]>();
  for (const l of usable) {
    const k = `${l.spec.protocol === 'UDP' ? 'udp' : 'tcp'}/${String(l.spec.port).padStart(5, '0')}`;
    byPort.set(k, [...(byPort.get(k) ?? []), l]);
  }
  return [...byPort.keys()].sort().map((k) => {
    const onPort = byPort.get(k)!;
    const { port, protocol } = onPort[0]!.spec;
    const seen = new Set<string>();
    const streamRoutes = attachments
      .filter((a) => onPort.includes(a.listener) && !seen.has(a.route.name) && seen.add(a.route.name))
      .map((a) => a.route);
    return {
      name: `${gateway.metadata.namespace ?? 'default'}/${gateway.metadata.name}/${protocol === 'UDP' ? 'udp/' : ''}${port}`,
      port,
      protocol: protocol as 'TCP' | 'TLS' | 'UDP',
      virtualHosts: [],
      streamRoutes,
    };
  });
}

/**
 * Virtual hosts of the listeners sharing one port. A request goes to the listener with the most
 * specific matching hostname; inside it, a host's routes are those of its own hostname followed by
 * those of every less specific hostname that also covers it (hostname is the first precedence rule).
 */
function virtualHostsForPort(
  listeners: ListenerInfo[],
  attachments: Attachment[],
  vhostListener: Map<VirtualHost, string>,
): VirtualHost[] {
  const owner = new Map<string, { listenerHost: string; listener: string; routes: RankedRoute[] }>();
  for (const l of listeners) {
    const listenerHost = l.spec.hostname ?? '*';
    const own = new Map<string, Map<string, RankedRoute>>([[listenerHost, new Map()]]);
    for (const a of attachments) {
      if (a.listener !== l) continue;
      for (const h of a.hostnames) {
        const bucket = own.get(h) ?? new Map<string, RankedRoute>();
        for (const r of a.info.ranked) bucket.set(r.route.name, r);
        own.set(h, bucket);
      }
    }
    const hosts = [...own.keys()].sort(compareHostnameSpecificity);
    for (const host of hosts) {
      const current = owner.get(host);
      if (current && compareHostnameSpecificity(current.listenerHost, listenerHost) <= 0) continue;
      const routes = hosts
        .filter((general) => hostnameCovers(general, host))
        .flatMap((general) => [...own.get(general)!.values()].sort(comparePrecedence));
      owner.set(host, { listenerHost, listener: l.spec.name, routes: dedupe(routes) });
    }
  }
  return [...owner.entries()]
    .sort(([a], [b]) => compareHostnameSpecificity(a, b))
    .map(([hostname, v]) => {
      const vh: VirtualHost = { hostname, routes: v.routes.map((r) => r.route) };
      vhostListener.set(vh, v.listener);
      return vh;
    });
}

function dedupe(routes: RankedRoute[]): RankedRoute[] {
  const seen = new Set<string>();
  return routes.filter((r) => !seen.has(r.route.name) && seen.add(r.route.name));
}

function nsName(o: { metadata: { namespace?: string; name: string } }): string {
  return `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;
}
