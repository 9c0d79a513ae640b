import type { Logger } from 'pino';
import { KubeApiError, type KubeRest } from '../../../../lib/src/kubernetes/kube-rest.ts';
import { checkObject } from '../../resources/check-object.ts';
import type { KubeObject } from './kube-object.ts';
import { collectionPath, type WatchedKind } from './watched-kinds.ts';

/** Content reads in flight at once: a snapshot naming hundreds of Secrets is read in a few round trips. */
const READ_CONCURRENCY = 16;

/**
 * The objects of one kind watched by metadata (a cluster's Secrets or ConfigMaps): the name and
 * resourceVersion of every one, and the content of only those a snapshot references, read when first
 * referenced and again when the watch shows a new resourceVersion. Content no longer referenced is
 * dropped, so the operator never holds a Secret the gateway does not use.
 */
export class ReferencedObjects {
  readonly #kind: WatchedKind;
  readonly #rest: KubeRest;
  readonly #logger: Logger;
  /** resourceVersion of every object the watch knows, by `namespace/name`. */
  readonly #versions = new Map<string, string | undefined>();
  readonly #content = new Map<string, KubeObject>();
  /** The resourceVersion of a referenced object that failed validation: not read again until it changes. */
  readonly #invalid = new Map<string, string | undefined>();
  #referenced: ReadonlySet<string> = new Set();

  constructor(kind: WatchedKind, rest: KubeRest, logger: Logger) {
    this.#kind = kind;
    this.#rest = rest;
    this.#logger = logger;
  }

  /** Records a watched object's metadata; true when a snapshot references it (so it matters). */
  put(key: string, resourceVersion: string | undefined): boolean {
    this.#versions.set(key, resourceVersion);
    return this.#referenced.has(key);
  }

  /** Forgets a deleted object; true when a snapshot referenced it. */
  delete(key: string): boolean {
    this.#versions.delete(key);
    this.#content.delete(key);
    this.#invalid.delete(key);
    return this.#referenced.has(key);
  }

  /**
   * The content of every existing object among `referenced`, read where not yet held or out of date.
   * A failed read rejects (the reconcile is retried), so a translation never mistakes an unreadable
   * Secret for a missing one.
   */
  async read(referenced: ReadonlySet<string>): Promise<KubeObject[]> {
    this.#referenced = referenced;
    for (const held of [this.#content, this.#invalid])
      for (const key of held.keys()) if (!referenced.has(key)) held.delete(key);
    const stale = [...referenced].filter((key) => {
      if (!this.#versions.has(key)) return false;
      const version = this.#versions.get(key);
      if (this.#invalid.has(key) && this.#invalid.get(key) === version) return false;
      return this.#content.get(key)?.metadata.resourceVersion !== version;
    });
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(READ_CONCURRENCY, stale.length) }, async () => {
        while (next < stale.length) await this.#readOne(stale[next++]!);
      }),
    );
    const found: KubeObject[] = [];
    for (const key of referenced) {
      const obj = this.#versions.has(key) ? this.#content.get(key) : undefined;
      if (obj) found.push(obj);
    }
    return found;
  }

  async #readOne(key: string): Promise<void> {
    const slash = key.indexOf('/');
    const path = `${collectionPath(this.#kind, key.slice(0, slash))}/${key.slice(slash + 1)}`;
    let obj: KubeObject;
    try {
      obj = await this.#rest.request<KubeObject>('GET', path);
    } catch (err) {
      // Deleted since the watch said otherwise: the watch's delete event follows.
      if (err instanceof KubeApiError && err.statusCode === 404) return void this.#content.delete(key);
      // Listed but not readable (a role narrower than the shipped one): it reads as missing for the
      // objects that name it, instead of stopping every reconcile.
      if (err instanceof KubeApiError && err.statusCode === 403) {
        this.#logger.warn(
          { kind: this.#kind.kind, object: key, err: err.message },
          'not allowed to read a referenced object; it reads as missing',
        );
        return void this.#content.delete(key);
      }
      throw err;
    }
    obj.apiVersion ??= this.#kind.apiVersion;
    obj.kind ??= this.#kind.kind;
    delete obj.metadata.managedFields;
    const checked = checkObject(obj);
    if ('problem' in checked) {
      this.#logger.warn(
        { kind: this.#kind.kind, object: key, ...checked.problem },
        'ignoring object that fails validation',
      );
      this.#content.delete(key);
      this.#invalid.set(key, obj.metadata.resourceVersion);
      return;
    }
    this.#invalid.delete(key);
    this.#content.set(key, obj);
  }
}
