import type { Logger } from 'pino';
import { Informer } from '../../../../lib/src/kubernetes/informer.ts';
import type { KubeRest } from '../../../../lib/src/kubernetes/kube-rest.ts';
import { checkObject } from '../../resources/check-object.ts';
import { jsonEqual } from '../../resources/json-equal.ts';
import { referencedObjects } from '../../resources/references.ts';
import { emptyResources, type Resources } from '../../resources/snapshot.ts';
import { type KubeObject, objectKey } from './kube-object.ts';
import { ReferencedObjects } from './referenced-objects.ts';
import { collectionPath, WATCHED_KINDS, type WatchedKind } from './watched-kinds.ts';

export type ChangeListener = (kind: string, obj: KubeObject, previous: KubeObject | undefined) => void;

/**
 * The Kubernetes provider: one list+watch informer per kind, objects validated once when they arrive
 * (the same check the file provider runs) and kept ready for a snapshot. An informer that loses its
 * watch (API server restart, network) restarts with backoff and resumes from its last resourceVersion.
 * Secrets and ConfigMaps are watched by metadata; a snapshot reads the content of those it references.
 */
export class ClusterCache {
  readonly #rest: KubeRest;
  readonly #logger: Logger;
  readonly #objects = new Map<string, Map<string, KubeObject>>();
  readonly #referenced = new Map<WatchedKind, ReferencedObjects>();
  readonly #informers: Informer<KubeObject>[] = [];
  readonly #listeners: ChangeListener[] = [];
  /** Bumped on every change a snapshot sees: one taken at a version can be reused until the next. */
  version = 0;

  constructor(rest: KubeRest, logger: Logger) {
    this.#rest = rest;
    this.#logger = logger;
    for (const k of WATCHED_KINDS)
      if (k.contentWhenReferenced) this.#referenced.set(k, new ReferencedObjects(k, rest, logger));
      else this.#objects.set(k.kind, new Map());
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
      metadataOnly: k.contentWhenReferenced,
      what: { kind: k.kind },
      logger: this.#logger,
    });
    this.#informers.push(informer);
    const referenced = this.#referenced.get(k);
    if (referenced) {
      // Only a change to an object a snapshot references can change a translation.
      const changed = (obj: KubeObject) => {
        this.version++;
        for (const l of this.#listeners) l(k.kind, obj, obj);
      };
      const put = (obj: KubeObject) =>
        referenced.put(objectKey(obj), obj.metadata.resourceVersion) && changed(obj);
      informer.on('add', put);
      informer.on('update', put);
      informer.on('delete', (obj) => referenced.delete(objectKey(obj)) && changed(obj));
      return informer.start();
    }
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

  /** An object of a kind held in full (of Secrets and ConfigMaps, the proxies' own only). */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#objects.get(kind)?.get(namespace ? `${namespace}/${name}` : name);
  }

  list(kind: string): KubeObject[] {
    return [...(this.#objects.get(kind)?.values() ?? [])];
  }

  /**
   * The translator's input: every valid object of every kind it reads, with the Secrets and
   * ConfigMaps its specs reference read (where not already held) from the API server.
   */
  async snapshot(): Promise<Resources> {
    const resources = emptyResources();
    for (const k of WATCHED_KINDS)
      if (k.bucket && !k.contentWhenReferenced)
        (resources[k.bucket] as unknown[]).push(...this.#objects.get(k.kind)!.values());
    const wanted = referencedObjects(resources);
    await Promise.all(
      [...this.#referenced].map(async ([k, referenced]) => {
        const bucket = k.bucket as 'secrets' | 'configMaps';
        resources[bucket] = (await referenced.read(wanted[bucket])) as never;
      }),
    );
    return resources;
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.stop()));
  }
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
