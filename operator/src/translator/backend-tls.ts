import type { ClusterTls, ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { type BackendTLSPolicy, GATEWAY_GROUP } from '../resources/gateway-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { CA_KEY, caBundle } from './ca-bundles.ts';
import { type Condition, condition } from './conditions.ts';
import { compareStrings } from './precedence.ts';
import type { StatusUpdate } from './status.ts';

interface PolicyCheck {
  policy: BackendTLSPolicy;
  tls: ClusterTls;
  problem?: string;
}

/**
 * BackendTLSPolicy: for each Service it targets (same namespace, optionally one port by sectionName),
 * the TLS the proxy must speak to it. CA bundles come from ConfigMaps or Secrets (key ca.crt) in the
 * policy's namespace, or the system roots with wellKnownCACertificates: System. The oldest policy
 * wins when several target the same Service.
 */
export class BackendTlsResolver {
  readonly #byService = new Map<string, PolicyCheck[]>();
  readonly #checks: PolicyCheck[] = [];

  constructor(resources: Resources) {
    const policies = [...resources.backendTLSPolicies].sort(
      (a, b) =>
        compareStrings(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
        compareStrings(key(a.metadata), key(b.metadata)),
    );
    for (const policy of policies) {
      const check = checkPolicy(policy, resources);
      this.#checks.push(check);
      const namespace = policy.metadata.namespace ?? 'default';
      for (const t of policy.spec.targetRefs) {
        if (t.group !== '' || t.kind !== 'Service') continue;
        const k = `${namespace}/${t.name}/${t.sectionName ?? ''}`;
        this.#byService.set(k, [...(this.#byService.get(k) ?? []), check]);
      }
    }
  }

  /** The TLS settings for a Service port, if a policy targets it (a port-specific one wins). */
  forService(namespace: string, name: string, portName: string | undefined): ClusterTls | undefined {
    const specific = portName ? this.#byService.get(`${namespace}/${name}/${portName}`) : undefined;
    return (specific ?? this.#byService.get(`${namespace}/${name}/`))?.[0]?.tls;
  }

  /** One ancestor status per Gateway whose proxy talks to a Service the policy targets. */
  statuses(configs: readonly ProxyConfig[], controllerName: string): StatusUpdate[] {
    return this.#checks.map(({ policy, problem }) => {
      const namespace = policy.metadata.namespace ?? 'default';
      const prefixes = policy.spec.targetRefs.map((t) => `service/${namespace}/${t.name}/`);
      const generation = policy.metadata.generation;
      const conditions: Condition[] = [
        condition('Accepted', true, 'Accepted', 'Policy is accepted', generation),
        problem
          ? condition('ResolvedRefs', false, 'InvalidCACertificateRef', problem, generation)
          : condition('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', generation),
      ];
      const ancestors = configs
        .filter((c) => c.clusters.some((cl) => prefixes.some((p) => cl.name.startsWith(p))))
        .map((c) => ({
          ancestorRef: {
            group: GATEWAY_GROUP,
            kind: 'Gateway',
            namespace: c.gateway.namespace,
            name: c.gateway.name,
          },
          controllerName,
          conditions,
        }));
      return {
        kind: 'BackendTLSPolicy' as const,
        namespace,
        name: policy.metadata.name,
        status: { ancestors },
      };
    });
  }
}

function checkPolicy(policy: BackendTLSPolicy, resources: Resources): PolicyCheck {
  const namespace = policy.metadata.namespace ?? 'default';
  const v = policy.spec.validation;
  const bundles: string[] = [];
  const problems: string[] = [];
  for (const ref of v.caCertificateRefs ?? []) {
    const pem = caBundle(resources, namespace, ref);
    if (pem) bundles.push(pem);
    else problems.push(`${ref.kind} ${namespace}/${ref.name} has no PEM certificate under ${CA_KEY}`);
  }
  return {
    policy,
    tls: {
      serverName: v.hostname,
      ...(bundles.length > 0 ? { caPem: bundles.join('\n') } : {}),
      ...(v.wellKnownCACertificates === 'System' ? { systemRoots: true } : {}),
    },
    ...(problems.length > 0 ? { problem: problems.join('; ') } : {}),
  };
}

function key(m: { namespace?: string; name: string }): string {
  return `${m.namespace ?? 'default'}/${m.name}`;
}
