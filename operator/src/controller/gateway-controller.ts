import { createHash } from 'node:crypto';
import { type Context, SpanStatusCode } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { KubeRest } from '../../../lib/src/kubernetes/kube-rest.ts';
import type { Tracing } from '../../../lib/src/telemetry/tracing.ts';
import { SECRETS_DIGEST_ANNOTATION } from '../../../proxy/src/config/delivery.ts';
import type { ProxyConfig } from '../../../proxy/src/config/schema.ts';
import { proxyObjectNames } from '../infra/names.ts';
import {
  GATEWAY_NAME_LABEL,
  type ProxyInfraOptions,
  RENDERED_PLURALS,
  type RenderedObject,
  renderProxyInfra,
} from '../infra/render-proxy.ts';
import { type ClusterCache, statusOnlyChange } from '../provider/kubernetes/cluster-cache.ts';
import type { KubeObject } from '../provider/kubernetes/kube-object.ts';
import { collectionPath, MANAGED_BY, MANAGED_BY_LABEL } from '../provider/kubernetes/watched-kinds.ts';
import { jsonEqual } from '../resources/json-equal.ts';
import type { Resources } from '../resources/snapshot.ts';
import { secretDataFor } from '../standalone/secret-data.ts';
import {
  desiredStatus,
  type KubernetesStatusWriter,
  withoutOurParents,
} from '../status/kubernetes-status-writer.ts';
import { condition } from '../translator/conditions.ts';
import type { StatusUpdate } from '../translator/status.ts';
import { type TranslationResult, translate } from '../translator/translate.ts';
import type { OperatorMetrics } from './operator-metrics.ts';

export const FIELD_MANAGER = 'sluice-operator';
/** The key of the reconcile that writes every status except Gateways' (those go with their Gateway). */
export const STATUS_KEY = 'status';
const GATEWAY_PREFIX = 'Gateway:';
/** Status writes in flight at once: 1,000 routes are written in seconds without flooding the server. */
const STATUS_WRITE_CONCURRENCY = 16;

export interface GatewayControllerOptions {
  controllerName: string;
  proxy: ProxyInfraOptions;
  /** Spans for each Gateway reconcile (translation, applies, status write). */
  tracing?: Tracing;
}

interface Translation {
  resources: Resources;
  result: TranslationResult;
}

/**
 * Level-triggered reconciles from the informer cache. A Gateway key renders and applies that Gateway's
 * proxy (ConfigMap, Secret, RBAC, Deployment, Service, PDB) and writes its status; the status key
 * writes every other status. One translation of the snapshot serves all keys until the cache changes.
 */
export class GatewayController {
  readonly #cache: ClusterCache;
  readonly #rest: KubeRest;
  readonly #status: KubernetesStatusWriter;
  readonly #metrics: OperatorMetrics;
  readonly #logger: Logger;
  readonly #o: GatewayControllerOptions;
  /** Hash of what was last applied per Gateway: an unchanged render sends nothing. */
  readonly #applied = new Map<string, string>();
  /** The translation of one cache version, shared by every reconcile until the cache changes. */
  #memo: { version: number; translation: Promise<Translation> } | undefined;

  constructor(
    cache: ClusterCache,
    rest: KubeRest,
    status: KubernetesStatusWriter,
    metrics: OperatorMetrics,
    logger: Logger,
    options: GatewayControllerOptions,
  ) {
    this.#cache = cache;
    this.#rest = rest;
    this.#status = status;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#o = options;
  }

  /** Every key there is: queued once the caches are synced and whenever this replica starts leading. */
  allKeys(): string[] {
    return [...this.#managedGateways().map(gatewayKey), STATUS_KEY];
  }

  /** Maps a change of any watched object to the keys it can affect. */
  keysFor(kind: string, obj: KubeObject, previous: KubeObject | undefined): string[] {
    switch (kind) {
      case 'Gateway':
        return [gatewayKey(obj), STATUS_KEY];
      case 'Deployment': {
        const gateway = obj.metadata.labels?.[GATEWAY_NAME_LABEL];
        return gateway ? [`${GATEWAY_PREFIX}${obj.metadata.namespace}/${gateway}`] : [];
      }
      case 'HTTPRoute': {
        // A status write (ours, usually) changes no Gateway's config: only statuses are looked at again.
        if (previous && statusOnlyChange(previous, obj)) return [STATUS_KEY];
        const parents = new Set(
          [obj, previous].flatMap((r) =>
            r
              ? (
                  (r.spec as { parentRefs?: { name: string; namespace?: string; kind?: string }[] })
                    .parentRefs ?? []
                )
                  .filter((p) => (p.kind ?? 'Gateway') === 'Gateway')
                  .map((p) => `${GATEWAY_PREFIX}${p.namespace ?? r.metadata.namespace}/${p.name}`)
              : [],
          ),
        );
        return [...parents, STATUS_KEY];
      }
      case 'ConfigMap':
      case 'Secret':
      case 'Service': {
        // A proxy's own Service (its address), ConfigMap or Secret (drift) concern its Gateway only;
        // any other may be a route backend, a provider credential or a CA bundle.
        const gateway =
          obj.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY && obj.metadata.labels[GATEWAY_NAME_LABEL];
        if (gateway) return [`${GATEWAY_PREFIX}${obj.metadata.namespace}/${gateway}`];
        return [...this.#managedGateways().map(gatewayKey), STATUS_KEY];
      }
      default:
        // Classes, grants, Sluice policies, Secrets, endpoints: translation decides who is affected,
        // and an unchanged render of a Gateway costs nothing (its hash matches).
        return [...this.#managedGateways().map(gatewayKey), STATUS_KEY];
    }
  }

  async reconcile(key: string): Promise<void> {
    if (key === STATUS_KEY) return this.#reconcileStatuses();
    if (key.startsWith(GATEWAY_PREFIX)) return this.#reconcileGateway(key);
  }

  #managedGateways(): KubeObject[] {
    const ours = new Set(
      this.#cache
        .list('GatewayClass')
        .filter((c) => (c.spec as { controllerName?: string }).controllerName === this.#o.controllerName)
        .map((c) => c.metadata.name),
    );
    return this.#cache
      .list('Gateway')
      .filter((g) => ours.has((g.spec as { gatewayClassName: string }).gatewayClassName));
  }

  #translation(): Promise<Translation> {
    const version = this.#cache.version;
    if (this.#memo?.version === version) return this.#memo.translation;
    const previous = this.#memo?.translation;
    const translation = (async () => {
      // One at a time: a snapshot reads the Secrets it references, and two reading at once could
      // each drop what the other is about to use.
      await previous?.catch(() => undefined);
      const resources = await this.#cache.snapshot();
      const result = translate(resources, { controllerName: this.#o.controllerName, now: Date.now() });
      this.#metrics.translations.inc();
      return { resources, result };
    })();
    this.#memo = { version, translation };
    // A failed read of a referenced Secret fails this reconcile (retried); the next one reads again.
    translation.catch(() => {
      if (this.#memo?.translation === translation) this.#memo = undefined;
    });
    return translation;
  }

  async #reconcileGateway(key: string): Promise<void> {
    const [namespace, name] = key.slice(GATEWAY_PREFIX.length).split('/') as [string, string];
    const tracing = this.#o.tracing;
    if (!tracing) return this.#reconcileGatewayTraced(namespace, name, key, undefined);
    const span = tracing.tracer.startSpan('reconcile Gateway', {
      attributes: { 'k8s.namespace.name': namespace, 'sluice.gateway': name },
    });
    try {
      await this.#reconcileGatewayTraced(namespace, name, key, {
        tracing,
        parent: tracing.contextWith(span),
      });
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  }

  async #reconcileGatewayTraced(
    namespace: string,
    name: string,
    key: string,
    traced: { tracing: Tracing; parent: Context } | undefined,
  ): Promise<void> {
    /** A child span around one step of the reconcile, when tracing is on. */
    const step = async <T>(what: string, run: () => Promise<T> | T): Promise<T> => {
      const span = traced?.tracing.tracer.startSpan(what, {}, traced.parent);
      try {
        return await run();
      } finally {
        span?.end();
      }
    };
    const gateway = this.#cache.get('Gateway', namespace, name);
    const { resources, result } = await step('translate', () => this.#translation());
    const config = result.configs.find((c) => c.gateway.namespace === namespace && c.gateway.name === name);
    if (!gateway || !config) {
      // Deleted or no longer ours: owner references let the garbage collector remove the proxy.
      this.#applied.delete(key);
      return;
    }
    await step('apply proxy objects', () => this.#applyInfra(key, gateway, config, resources));
    const update = result.statuses.find(
      (s): s is Extract<StatusUpdate, { kind: 'Gateway' }> =>
        s.kind === 'Gateway' && s.namespace === namespace && s.name === name,
    );
    if (update) await step('write Gateway status', () => this.#writeGatewayStatus(gateway, update));
  }

  async #applyInfra(
    key: string,
    gateway: KubeObject,
    config: ProxyConfig,
    resources: Resources,
  ): Promise<void> {
    const objects = renderProxyInfra(
      {
        namespace: gateway.metadata.namespace!,
        name: gateway.metadata.name,
        uid: gateway.metadata.uid!,
        annotations: gateway.metadata.annotations,
        // From the validated snapshot, so only string labels and annotations reach the objects.
        infrastructure: resources.gateways.find(
          (g) =>
            g.metadata.namespace === gateway.metadata.namespace && g.metadata.name === gateway.metadata.name,
        )?.spec.infrastructure,
      },
      config,
      secretDataFor(config, resources),
      this.#o.proxy,
    );
    const hash = createHash('sha256').update(JSON.stringify(objects)).digest('hex');
    if (this.#applied.get(key) === hash && this.#liveMatches(objects)) return;
    for (const o of objects) {
      const path = `${collectionPath({ apiVersion: o.apiVersion, plural: RENDERED_PLURALS[o.kind]! }, o.metadata.namespace)}/${o.metadata.name}`;
      await this.#rest.apply(path, o, FIELD_MANAGER);
      this.#metrics.applies.labels(o.kind).inc();
    }
    this.#applied.set(key, hash);
    this.#logger.info(
      { gateway: key.slice(GATEWAY_PREFIX.length), routes: countRoutes(config) },
      'proxy config published',
    );
  }

  /**
   * Whether what runs is still what was rendered: the proxy's ConfigMap and Secret hold the rendered
   * data and its Deployment exists. A hand edit or deletion makes this false and the next reconcile
   * applies again.
   */
  #liveMatches(objects: RenderedObject[]): boolean {
    return objects.every((o) => {
      if (o.kind !== 'ConfigMap' && o.kind !== 'Secret' && o.kind !== 'Deployment') return true;
      const live = this.#cache.get(o.kind, o.metadata.namespace, o.metadata.name);
      if (!live) return false;
      if (o.kind === 'ConfigMap')
        return (
          jsonEqual(live.binaryData, o.binaryData) &&
          live.metadata.annotations?.[SECRETS_DIGEST_ANNOTATION] ===
            o.metadata.annotations?.[SECRETS_DIGEST_ANNOTATION]
        );
      if (o.kind === 'Secret') return jsonEqual(live.data ?? {}, o.data);
      return true;
    });
  }

  /**
   * Programmed is only true once the proxy Deployment is available; addresses come from its Service
   * and are published from then on.
   */
  async #writeGatewayStatus(
    gateway: KubeObject,
    update: Extract<StatusUpdate, { kind: 'Gateway' }>,
  ): Promise<void> {
    const namespace = gateway.metadata.namespace!;
    const names = proxyObjectNames(gateway.metadata.name);
    const service = this.#cache.get('Service', namespace, names.workload);
    const deployment = this.#cache.get('Deployment', namespace, names.workload);
    const available = deploymentAvailable(deployment);
    // Only an address that serves is published: clients (the conformance suite among them) dial the
    // first one they see, and a Service's cluster IP before its load balancer answers is not it.
    const addresses = available ? serviceAddresses(service) : [];
    const generation = gateway.metadata.generation;
    const conditions = update.status.conditions.map((c) => {
      if (c.type !== 'Programmed' || c.status !== 'True') return c;
      if (!available)
        return condition(
          'Programmed',
          false,
          'Pending',
          `waiting for Deployment ${names.workload} to become available`,
          generation,
        );
      if (addresses.length === 0)
        return condition(
          'Programmed',
          false,
          'AddressNotAssigned',
          `Service ${names.workload} has no address yet`,
          generation,
        );
      return c;
    });
    const status = desiredStatus(
      { ...update, status: { ...update.status, conditions } },
      gateway.status as never,
      this.#o.controllerName,
      new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      addresses,
    );
    if (await this.#status.write('Gateway', gateway, status))
      this.#metrics.statusWrites.labels('Gateway').inc();
  }

  async #reconcileStatuses(): Promise<void> {
    const { result } = await this.#translation();
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const writes: (() => Promise<void>)[] = [];
    const routesWithStatus = new Set<string>();
    for (const update of result.statuses) {
      if (update.kind === 'Gateway') continue;
      const namespace = 'namespace' in update ? update.namespace : undefined;
      if (update.kind === 'HTTPRoute') routesWithStatus.add(`${namespace}/${update.name}`);
      const current = this.#cache.get(update.kind, namespace, update.name);
      if (!current) continue;
      const status = desiredStatus(update, current.status as never, this.#o.controllerName, now);
      writes.push(async () => {
        if (await this.#status.write(update.kind, current, status))
          this.#metrics.statusWrites.labels(update.kind).inc();
      });
    }
    for (const route of this.#cache.list('HTTPRoute')) {
      if (routesWithStatus.has(`${route.metadata.namespace}/${route.metadata.name}`)) continue;
      const stale = withoutOurParents(route.status as never, this.#o.controllerName);
      if (stale)
        writes.push(async () => {
          if (await this.#status.write('HTTPRoute', route, stale))
            this.#metrics.statusWrites.labels('HTTPRoute').inc();
        });
    }
    // A pool, not batches: each write starts as soon as any other ends, so one slow answer holds
    // up one slot instead of the whole batch behind it.
    const errors: Error[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(STATUS_WRITE_CONCURRENCY, writes.length) }, async () => {
        while (next < writes.length)
          await writes[next++]!().catch((err: Error) => {
            errors.push(err);
          });
      }),
    );
    if (errors.length > 0)
      throw new Error(`${errors.length} status writes failed, first: ${errors[0]!.message}`);
  }
}

function gatewayKey(g: KubeObject): string {
  return `${GATEWAY_PREFIX}${g.metadata.namespace}/${g.metadata.name}`;
}

function countRoutes(config: ProxyConfig): number {
  return config.listeners.reduce((n, l) => n + l.virtualHosts.reduce((m, v) => m + v.routes.length, 0), 0);
}

/** Load-balancer ingress addresses when a load balancer assigned them, else the cluster IP. */
export function serviceAddresses(service: KubeObject | undefined): { type: string; value: string }[] {
  if (!service) return [];
  const ingress =
    (service.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)
      ?.loadBalancer?.ingress ?? [];
  const fromLb = ingress.flatMap((i) =>
    i.ip ? [{ type: 'IPAddress', value: i.ip }] : i.hostname ? [{ type: 'Hostname', value: i.hostname }] : [],
  );
  if (fromLb.length > 0) return fromLb;
  const clusterIP = (service.spec as { clusterIP?: string } | undefined)?.clusterIP;
  return clusterIP && clusterIP !== 'None' ? [{ type: 'IPAddress', value: clusterIP }] : [];
}

/** The Deployment controller's own verdict, for the generation we last applied. */
export function deploymentAvailable(deployment: KubeObject | undefined): boolean {
  if (!deployment) return false;
  const status = deployment.status as
    | {
        observedGeneration?: number;
        conditions?: { type: string; status: string }[];
        availableReplicas?: number;
      }
    | undefined;
  return (
    (status?.observedGeneration ?? 0) >= (deployment.metadata.generation ?? 0) &&
    (status?.availableReplicas ?? 0) > 0 &&
    (status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True')
  );
}
