import type { Cluster, Endpoint } from '../../../proxy/src/config/schema.ts';
import { type EndpointSlice, SERVICE_NAME_LABEL, type Service } from '../resources/core.ts';
import type { BackendObjectReference, ReferenceGrant } from '../resources/gateway-api.ts';
import { SLUICE_GROUP } from '../resources/sluice-api.ts';
import type { Resources } from '../resources/snapshot.ts';
import { BackendTlsResolver } from './backend-tls.ts';
import { referenceGranted } from './reference-grants.ts';

export type BackendResolution =
  | { ok: true; cluster: string }
  | { ok: false; reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound'; message: string };

/**
 * Resolves route backendRefs to upstream clusters: only core Services, cross-namespace only with a
 * ReferenceGrant, endpoints from ready EndpointSlice addresses (or an ExternalName's host).
 */
export class BackendResolver {
  readonly #services = new Map<string, Service>();
  readonly #slices = new Map<string, EndpointSlice[]>();
  readonly #grants: ReferenceGrant[];
  readonly #clusters = new Map<string, Cluster>();

  readonly #aiBackends: ReadonlySet<string>;
  /** BackendTLSPolicies: how clusters of Services they target speak TLS. */
  readonly tls: BackendTlsResolver;

  constructor(resources: Resources, usableAIBackends: ReadonlySet<string>) {
    this.#aiBackends = usableAIBackends;
    for (const s of resources.services) this.#services.set(key(ns(s.metadata), s.metadata.name), s);
    for (const slice of resources.endpointSlices) {
      const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (!service) continue;
      const k = key(ns(slice.metadata), service);
      this.#slices.set(k, [...(this.#slices.get(k) ?? []), slice]);
    }
    this.#grants = resources.referenceGrants;
    this.tls = new BackendTlsResolver(resources);
  }

  resolve(ref: BackendObjectReference, fromNamespace: string, fromKind: string): BackendResolution {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Service';
    if (group !== '' || kind !== 'Service')
      return {
        ok: false,
        reason: 'InvalidKind',
        message: `backend kind ${group ? `${group}/` : ''}${kind} is not supported`,
      };
    const namespace = ref.namespace ?? fromNamespace;
    if (
      namespace !== fromNamespace &&
      !referenceGranted(this.#grants, {
        fromKind,
        fromNamespace,
        toGroup: '',
        toKind: 'Service',
        toNamespace: namespace,
        toName: ref.name,
      })
    )
      return {
        ok: false,
        reason: 'RefNotPermitted',
        message: `no ReferenceGrant in namespace ${namespace} allows ${fromKind} from ${fromNamespace} to Service ${ref.name}`,
      };
    const service = this.#services.get(key(namespace, ref.name));
    if (!service)
      return { ok: false, reason: 'BackendNotFound', message: `Service ${namespace}/${ref.name} not found` };
    if (ref.port === undefined)
      return {
        ok: false,
        reason: 'BackendNotFound',
        message: `backendRef to Service ${namespace}/${ref.name} needs a port`,
      };
    const servicePort = service.spec.ports?.find((p) => p.port === ref.port);
    if (!servicePort && service.spec.type !== 'ExternalName')
      return {
        ok: false,
        reason: 'BackendNotFound',
        message: `Service ${namespace}/${ref.name} has no port ${ref.port}`,
      };
    const name = `service/${namespace}/${ref.name}/${ref.port}`;
    if (!this.#clusters.has(name)) {
      const tls = this.tls.forService(namespace, ref.name, servicePort?.name);
      this.#clusters.set(name, {
        name,
        endpoints: this.#endpoints(service, namespace, ref.port, servicePort?.name),
        ...(tls ? { tls } : {}),
        // Backend protocol selection (GEP-1911): this appProtocol means HTTP/2 with prior knowledge.
        ...(servicePort?.appProtocol === 'kubernetes.io/h2c' ? { protocol: 'h2c' as const } : {}),
      });
    }
    return { ok: true, cluster: name };
  }

  /** Resolves a backendRef of kind sluice.dev/AIBackend to the AI backend's `namespace/name`. */
  resolveAIBackend(ref: BackendObjectReference, fromNamespace: string, fromKind: string): BackendResolution {
    const namespace = ref.namespace ?? fromNamespace;
    if (
      namespace !== fromNamespace &&
      !referenceGranted(this.#grants, {
        fromKind,
        fromNamespace,
        toGroup: SLUICE_GROUP,
        toKind: 'AIBackend',
        toNamespace: namespace,
        toName: ref.name,
      })
    )
      return {
        ok: false,
        reason: 'RefNotPermitted',
        message: `no ReferenceGrant in namespace ${namespace} allows ${fromKind} from ${fromNamespace} to AIBackend ${ref.name}`,
      };
    const name = `${namespace}/${ref.name}`;
    if (!this.#aiBackends.has(name))
      return { ok: false, reason: 'BackendNotFound', message: `AIBackend ${name} not found or not accepted` };
    return { ok: true, cluster: name };
  }

  /** The clusters resolved so far, sorted by name. */
  clusters(): Cluster[] {
    return [...this.#clusters.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  #endpoints(service: Service, namespace: string, port: number, portName: string | undefined): Endpoint[] {
    if (service.spec.type === 'ExternalName' && service.spec.externalName)
      return [{ host: service.spec.externalName, port }];
    const seen = new Set<string>();
    const out: Endpoint[] = [];
    for (const slice of this.#slices.get(key(namespace, service.metadata.name)) ?? []) {
      const slicePort = slice.ports?.find((p) => (p.name ?? '') === (portName ?? ''));
      if (slicePort?.port === undefined) continue;
      for (const e of slice.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        const host = e.addresses[0]!;
        const id = `${host}:${slicePort.port}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push({ host, port: slicePort.port });
      }
    }
    return out.sort((a, b) => (a.host === b.host ? a.port - b.port : a.host < b.host ? -1 : 1));
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function ns(meta: { namespace?: string }): string {
  return meta.namespace ?? 'default';
}
