import type { Logger } from 'pino';
import { Informer } from '../../../../lib/src/kubernetes/informer.ts';
import type { KubeRest } from '../../../../lib/src/kubernetes/kube-rest.ts';
import { checkObject } from '../../resources/check-object.ts';
import { jsonEqual } from '../../resources/json-equal.ts';
import { emptyResources, type Resources } from '../../resources/snapshot.ts';
import { collectionPath, WATCHED_KINDS, type WatchedKind } from './watched-kinds.ts';

/** What every object from the API server carries; the rest is the kind's own. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    managedFields?: object[];
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
  };
  [field: string]: unknown;
}

export type ChangeListener = (kind: string, obj: KubeObject, previous: KubeObject | undefined) => void;

/**
 * The Kubernetes provider: one list+watch informer per kind, objects validated once when they arrive
 * (the same check the file provider runs) and kept ready for a snapshot. An informer that loses its
 * watch (API server restart, network) restarts with backoff and resumes from its last resourceVersion.
 */
export class ClusterCache {
  readonly #rest: KubeRest;
  readonly #logger: Logger;
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #informers: Informer<KubeObject>[] = [];
  readonly #listeners: ChangeListener[] = [];
  /** Bumped on every change: a snapshot taken at one version can be reused until the next. */
  version = 0;

  constructor(rest: KubeRest, logger: Logger) {
    this.#rest = rest;
    this.#logger = logger;
    for (const k of WATCHED_KINDS) this.#objects.set(k.kind, new Map());
  }

  onChange(listener: ChangeListener): void {
    this.#listeners.push(listener);
  }

  /** Lists every kind and starts its watch; resolves once all initial lists are in the cache. */
  async start(): Promise<void> {
    await Promise.all(WATCHED_KINDS.map((k) => this.#startInformer(k)));
  }

  async #startInformer(k: WatchedKind): Promise<void> {
    const informer = new Informer<KubeObject>(this.#rest, {
      path: collectionPath(k),
      labelSelector: k.labelSelector,
      fieldSelector: k.fieldSelector,
      what: { kind: k.kind },
      logger: this.#logger,
    });
    const store = this.#objects.get(k.kind)!;
    const put = (obj: KubeObject) => {
      const key = objectKey(obj);
      obj.apiVersion ??= k.apiVersion;
      obj.kind ??= k.kind;
      delete obj.metadata.managedFields;
      if (k.bucket) {
        const checked = checkObject(obj);
        if ('problem' in checked) {
          this.#logger.warn(
            { kind: k.kind, object: key, ...checked.problem },
            'ignoring object that fails validation',
          );
          this.#remove(k.kind, store, key);
          return;
        }
      }
      const previous = store.get(key);
      store.set(key, obj);
      // The translator reads no status: a status-only update (ours, usually) keeps the snapshot.
      if (k.bucket && !(previous && statusOnlyChange(previous, obj))) this.version++;
      for (const l of this.#listeners) l(k.kind, obj, previous);
    };
    informer.on('add', put);
    informer.on('update', put);
    informer.on('delete', (obj) => this.#remove(k.kind, store, objectKey(obj)));
    this.#informers.push(informer);
    // Every initial list must succeed before the operator reconciles anything: a partial cache
    // would look like deleted objects and tear down working proxies. A failed list is retried.
    await informer.start();
  }

  #remove(kind: string, store: Map<string, KubeObject>, key: string): void {
    const previous = store.get(key);
    if (!previous) return;
    store.delete(key);
    this.version++;
    for (const l of this.#listeners) l(kind, previous, previous);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#objects.get(kind)?.get(namespace ? `${namespace}/${name}` : name);
  }

  list(kind: string): KubeObject[] {
    return [...(this.#objects.get(kind)?.values() ?? [])];
  }

  /** The translator's input: every valid object of every kind it reads. */
  snapshot(): Resources {
    const resources = emptyResources();
    for (const k of WATCHED_KINDS)
      if (k.bucket) (resources[k.bucket] as unknown[]).push(...this.#objects.get(k.kind)!.values());
    return resources;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.stop()));
  }
}

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/** Same generation, labels and annotations: only status (or bookkeeping metadata) changed. */
export function statusOnlyChange(previous: KubeObject, next: KubeObject): boolean {
  const a = previous.metadata;
  const b = next.metadata;
  return (
    a.generation !== undefined &&
    a.generation === b.generation &&
    jsonEqual(a.labels, b.labels) &&
    jsonEqual((a as { annotations?: unknown }).annotations, (b as { annotations?: unknown }).annotations)
  );
}
