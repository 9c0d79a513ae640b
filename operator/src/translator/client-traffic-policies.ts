import type { ClientIPDetection, Listener, ProxyConfig } from '../../../proxy/src/config/schema.ts';
import type { ClientTrafficPolicy } from '../resources/client-traffic-policy.ts';
import { clientTrafficPolicyProblems } from '../resources/client-traffic-policy.ts';
import type { Gateway } from '../resources/gateway-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { type Condition, condition } from './conditions.ts';
import { durationMs, quantityBytes } from './durations.ts';
import { selectorMatches } from './labels.ts';
import { gatewayAncestor, oldestFirst } from './policy-attachment.ts';
import type { StatusUpdate } from './status.ts';

/**
 * ClientTrafficPolicies → the client-facing settings of each Gateway's ports (GEP-713 attachment).
 * A policy targets a Gateway or one listener (`sectionName`); what it sets applies to that
 * listener's port, which every listener on the port shares. A listener target outranks the Gateway;
 * between equals the oldest wins and the other is Conflicted.
 */
export function attachClientTrafficPolicies(
  resources: Resources,
  configs: ProxyConfig[],
  controllerName: string,
): StatusUpdate[] {
  const policies = [...resources.clientTrafficPolicies].sort(oldestFirst);
  const gateways = new Map(
    resources.gateways.map((g) => [`${g.metadata.namespace ?? 'default'}/${g.metadata.name}`, g]),
  );
  const won = new Map<string, Set<string>>();
  const lost = new Map<string, Map<string, string>>();
  for (const config of configs) {
    const key = `${config.gateway.namespace}/${config.gateway.name}`;
    const gateway = gateways.get(key);
    if (!gateway) continue;
    for (const listener of config.listeners) {
      // TCP and TLS ports take only the TCP idle timeout; UDP ports nothing.
      const stream = listener.protocol === 'TCP' || listener.protocol === 'TLS';
      if (listener.protocol === 'UDP') continue;
      const sections = new Set(
        gateway.spec.listeners.filter((l) => l.port === listener.port).map((l) => l.name),
      );
      const candidates = policies
        .map((policy) => ({ policy, level: levelOn(policy, gateway, sections) }))
        .filter((c): c is { policy: ClientTrafficPolicy; level: number } => c.level !== undefined)
        .sort((a, b) => b.level - a.level);
      // Each field group comes from the most specific (then oldest) policy that sets it.
      for (const group of stream ? (['timeout'] as const) : GROUPS) {
        const setting = candidates.filter((c) =>
          stream ? c.policy.spec.timeout?.tcp !== undefined : c.policy.spec[group] !== undefined,
        );
        const top = setting[0];
        if (!top) continue;
        apply(listener, group, top.policy);
        won.set(id(top.policy), (won.get(id(top.policy)) ?? new Set()).add(key));
        for (const other of setting.slice(1)) {
          const byGateway = lost.get(id(other.policy)) ?? new Map<string, string>();
          byGateway.set(key, id(top.policy));
          lost.set(id(other.policy), byGateway);
        }
      }
    }
  }
  return policies.map((policy) => {
    const namespace = policy.metadata.namespace ?? 'default';
    const name = `${namespace}/${policy.metadata.name}`;
    const generation = policy.metadata.generation;
    const problems = clientTrafficPolicyProblems(policy).map((p) => `${p.field}: ${p.message}`);
    const targets = targetGateways(policy, resources, namespace);
    const ancestors = targets.map((gateway) => {
      const conditions: Condition[] = [];
      const by = lost.get(name)?.get(gateway);
      if (problems.length > 0)
        conditions.push(condition('Accepted', false, 'Invalid', problems.join('; '), generation));
      else if (
        !gateways.has(gateway) ||
        !configs.some((c) => `${c.gateway.namespace}/${c.gateway.name}` === gateway)
      )
        conditions.push(
          condition(
            'Accepted',
            false,
            'TargetNotFound',
            `Gateway ${gateway} not found or not Sluice's`,
            generation,
          ),
        );
      else if (by && !won.get(name)?.has(gateway))
        conditions.push(
          condition('Accepted', false, 'Conflicted', `${by} sets the same fields on this target`, generation),
        );
      else conditions.push(condition('Accepted', true, 'Accepted', 'Policy is attached', generation));
      return gatewayAncestor(gateway, controllerName, conditions);
    });
    return {
      kind: 'ClientTrafficPolicy' as const,
      namespace,
      name: policy.metadata.name,
      status: { ancestors },
    };
  });
}

/** 1 for a listener on this port, 0 for the whole Gateway, undefined when the policy does not target it. */
function levelOn(
  policy: ClientTrafficPolicy,
  gateway: Gateway,
  sections: ReadonlySet<string>,
): number | undefined {
  const namespace = policy.metadata.namespace ?? 'default';
  if ((gateway.metadata.namespace ?? 'default') !== namespace) return undefined;
  let level: number | undefined;
  for (const ref of policy.spec.targetRefs ?? []) {
    if (ref.name !== gateway.metadata.name) continue;
    if (ref.sectionName === undefined) level = Math.max(level ?? 0, 0);
    else if (sections.has(ref.sectionName)) level = 1;
  }
  for (const selector of policy.spec.targetSelectors ?? [])
    if (selectorMatches({ matchLabels: selector.matchLabels }, gateway.metadata.labels ?? {}))
      level = Math.max(level ?? 0, 0);
  return level;
}

function targetGateways(policy: ClientTrafficPolicy, resources: Resources, namespace: string): string[] {
  const named = (policy.spec.targetRefs ?? []).map((r) => `${namespace}/${r.name}`);
  const selected = resources.gateways
    .filter(
      (g) =>
        (g.metadata.namespace ?? 'default') === namespace &&
        (policy.spec.targetSelectors ?? []).some((s) =>
          selectorMatches({ matchLabels: s.matchLabels }, g.metadata.labels ?? {}),
        ),
    )
    .map((g) => `${namespace}/${g.metadata.name}`);
  return [...new Set([...named, ...selected])].sort();
}

const GROUPS = [
  'clientIPDetection',
  'connection',
  'timeout',
  'proxyProtocol',
  'tcpKeepalive',
  'http2',
  'headers',
] as const;

function id(p: ClientTrafficPolicy): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

/** Sets one field group of a policy on a port of the proxy config. */
function apply(listener: Listener, group: (typeof GROUPS)[number], policy: ClientTrafficPolicy): void {
  if (clientTrafficPolicyProblems(policy).length > 0) return;
  const spec = policy.spec;
  if (listener.protocol === 'TCP' || listener.protocol === 'TLS') {
    const idle = spec.timeout?.tcp?.idleTimeout;
    if (group === 'timeout' && idle) listener.idleTimeoutMs = durationMs(idle) || 1;
    return;
  }
  if (group === 'clientIPDetection') listener.clientIPDetection = detectionOf(spec.clientIPDetection!);
  const connection = spec.connection;
  if (group === 'connection' && connection?.connectionLimit) {
    listener.connectionLimit = connection.connectionLimit.value;
    const delay = connection.connectionLimit.closeDelay;
    if (delay) listener.connectionCloseDelayMs = durationMs(delay) || 1;
  }
  if (group === 'connection' && connection?.bufferLimit !== undefined)
    listener.bufferLimitBytes = Math.min(2_147_483_647, quantityBytes(connection.bufferLimit));
  if (group === 'connection' && connection?.maxRequestsPerConnection !== undefined)
    listener.maxRequestsPerConnection = connection.maxRequestsPerConnection;
  if (group === 'connection' && connection?.maxConnectionDuration)
    listener.maxConnectionDurationMs = durationMs(connection.maxConnectionDuration) || 1;
  const http = spec.timeout?.http;
  if (group === 'timeout' && http?.requestReceivedTimeout)
    listener.requestReceivedTimeoutMs = durationMs(http.requestReceivedTimeout);
  if (group === 'timeout' && http?.idleTimeout) listener.idleTimeoutMs = durationMs(http.idleTimeout);
  if (group === 'headers' && spec.headers?.requestID) listener.requestId = spec.headers.requestID;
  const xfcc = spec.headers?.xForwardedClientCert;
  if (group === 'headers' && xfcc && listener.protocol === 'HTTPS')
    listener.forwardedClientCert = { mode: xfcc.mode ?? 'Sanitize', details: xfcc.certDetailsToAdd ?? [] };
  if (group === 'proxyProtocol') listener.proxyProtocol = { optional: spec.proxyProtocol!.optional ?? false };
  // Envoy Gateway's default idle time before keepalive probes is the kernel's (2 h on Linux).
  if (group === 'tcpKeepalive')
    listener.tcpKeepaliveIdleMs = durationMs(spec.tcpKeepalive!.idleTime ?? '2h') || 1;
  const h2 = spec.http2;
  if (group === 'http2' && h2 && listener.protocol === 'HTTPS') {
    const window = (size: number | string | undefined) =>
      size === undefined ? undefined : Math.min(2_147_483_647, Math.max(65_535, quantityBytes(size)));
    const stream = window(h2.initialStreamWindowSize);
    const connection = window(h2.initialConnectionWindowSize);
    listener.http2 = {
      ...(h2.maxConcurrentStreams !== undefined ? { maxConcurrentStreams: h2.maxConcurrentStreams } : {}),
      ...(stream !== undefined ? { initialStreamWindowSize: stream } : {}),
      ...(connection !== undefined ? { initialConnectionWindowSize: connection } : {}),
    };
  }
}

function detectionOf(d: NonNullable<ClientTrafficPolicy['spec']['clientIPDetection']>): ClientIPDetection {
  if (d.customHeader)
    return { header: d.customHeader.name, ...(d.customHeader.failClosed ? { failClosed: true } : {}) };
  const xff = d.xForwardedFor!;
  return xff.numTrustedHops !== undefined
    ? { xffTrustedHops: xff.numTrustedHops }
    : { xffTrustedCidrs: xff.trustedCIDRs! };
}
