import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { KubeApiError, type KubeRest, METADATA_ONLY } from './kube-rest.ts';

export interface WatchedObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

export interface InformerOptions {
  /** The collection, e.g. `/apis/gateway.networking.k8s.io/v1/httproutes`. */
  path: string;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Lists and watches each object's metadata only (no spec, data or status). */
  metadataOnly?: boolean | undefined;
  /** Said in logs about this informer (kind, object). */
  what: Record<string, string>;
  logger: Logger;
  /** A watch silent this long is taken for dead and resumed (default: the longest watch plus a minute). */
  idleTimeoutMs?: number;
}

type Listener<T> = (obj: T) => void;

/** Lists come in pages: a 10,000-object kind is never one giant answer held at once. */
const PAGE_SIZE = 500;
/** Lost watches and failed lists are retried after 250 ms, doubling per consecutive failure up to 10 s. */
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 10_000;
/** The server ends each watch after 4 to 6 minutes (spread so that informers do not re-watch at once). */
const WATCH_SECONDS = () => 240 + Math.floor(Math.random() * 120);
/**
 * Bookmarks arrive about once a minute and the server ends every watch within 6 minutes, so a watch
 * silent for 7 is a connection that died without closing (a node gone, a dropped NAT entry).
 */
const WATCH_IDLE_MS = 420_000;

/**
 * List, then watch from the list's resourceVersion, for one collection: `add`, `update` and
 * `delete` for each change, in order. A watch the server ends is resumed from the last
 * resourceVersion seen (bookmarks keep it fresh); a failed list or watch is retried with backoff
 * (reset once a watch connects); a resourceVersion the server no longer has (410 Gone) is a relist,
 * which reports what changed meanwhile, deletions included.
 *
 * It keeps only each object's key and resourceVersion: the objects themselves live in the caller's
 * cache, not twice (client-node's informer kept a full copy beside the operator's).
 */
export class Informer<T extends WatchedObject> {
  readonly #rest: KubeRest;
  readonly #options: InformerOptions;
  readonly #versions = new Map<string, string | undefined>();
  readonly #listeners = {
    add: [] as Listener<T>[],
    update: [] as Listener<T>[],
    delete: [] as Listener<T>[],
  };
  readonly #abort = new AbortController();
  #resourceVersion: string | undefined;
  #running: Promise<void> | undefined;

  constructor(rest: KubeRest, options: InformerOptions) {
    this.#rest = rest;
    this.#options = options;
  }

  on(event: 'add' | 'update' | 'delete', listener: Listener<T>): void {
    this.#listeners[event].push(listener);
  }

  /** Resolves once the first list has been delivered (retried until it succeeds); then watches on. */
  start(): Promise<void> {
    return new Promise((listed) => {
      this.#running = this.#run(listed);
    });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  async #run(listed: () => void): Promise<void> {
    let failures = 0;
    const signal = this.#abort.signal;
    // Stopped before the first list: whoever awaits start() is not left waiting.
    signal.addEventListener('abort', listed, { once: true });
    while (!signal.aborted) {
      try {
        if (this.#resourceVersion === undefined) {
          await this.#list();
          listed();
        }
        await this.#watch(() => {
          failures = 0;
        });
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof KubeApiError && err.statusCode === 410) {
          // Too old to resume from: list again (at once; the server answered, nothing is down).
          this.#resourceVersion = undefined;
          continue;
        }
        failures++;
        const delay = Math.min(RETRY_BASE_MS * 2 ** (failures - 1), RETRY_MAX_MS);
        this.#options.logger.warn(
          { ...this.#options.what, err: String((err as Error)?.message ?? err), retryInMs: delay },
          'watch failed, restarting',
        );
        await sleep(delay, signal);
      }
    }
  }

  #query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    if (this.#options.labelSelector) q.set('labelSelector', this.#options.labelSelector);
    if (this.#options.fieldSelector) q.set('fieldSelector', this.#options.fieldSelector);
    return `${this.#options.path}?${q}`;
  }

  async #list(): Promise<void> {
    const seen = new Set<string>();
    let next: string | undefined;
    let version: string | undefined;
    do {
      const page = await this.#rest.request<{
        items: T[] | null;
        metadata: { resourceVersion?: string; continue?: string };
      }>(
        'GET',
        this.#query({ limit: String(PAGE_SIZE), ...(next ? { continue: next } : {}) }),
        undefined,
        undefined,
        this.#options.metadataOnly ? METADATA_ONLY.list : undefined,
      );
      // An empty PartialObjectMetadataList comes with `items: null`.
      for (const item of page.items ?? []) {
        seen.add(keyOf(item));
        this.#put(item);
      }
      next = page.metadata.continue || undefined;
      version = page.metadata.resourceVersion;
    } while (next);
    for (const key of [...this.#versions.keys()]) if (!seen.has(key)) this.#delete(stub(key) as T);
    this.#resourceVersion = version ?? '';
  }

  /** One watch, until the server ends it; `connected` once it is accepted. */
  async #watch(connected: () => void): Promise<void> {
    const body = await this.#rest.watch(
      this.#query({
        watch: '1',
        allowWatchBookmarks: 'true',
        resourceVersion: this.#resourceVersion ?? '',
        timeoutSeconds: String(WATCH_SECONDS()),
      }),
      this.#abort.signal,
      this.#options.idleTimeoutMs ?? WATCH_IDLE_MS,
      this.#options.metadataOnly ? METADATA_ONLY.watch : undefined,
    );
    connected();
    for await (const line of lines(body)) {
      const event = JSON.parse(line) as { type: string; object: T & { code?: number; message?: string } };
      const obj = event.object;
      if (event.type === 'ERROR') {
        const status = obj as unknown as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(
          status.code ?? 500,
          status.reason ?? '',
          `watch: ${status.message ?? 'error'}`,
        );
      }
      if (obj.metadata?.resourceVersion) this.#resourceVersion = obj.metadata.resourceVersion;
      if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#put(obj);
      else if (event.type === 'DELETED') this.#delete(obj);
    }
  }

  #put(obj: T): void {
    const key = keyOf(obj);
    const known = this.#versions.has(key);
    if (known && this.#versions.get(key) === obj.metadata.resourceVersion) return;
    this.#versions.set(key, obj.metadata.resourceVersion);
    for (const l of known ? this.#listeners.update : this.#listeners.add) l(obj);
  }

  #delete(obj: T): void {
    if (!this.#versions.delete(keyOf(obj))) return;
    for (const l of this.#listeners.delete) l(obj);
  }
}

function keyOf(obj: WatchedObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/** An object known only by its key: what a relist reports as deleted (the caller has the rest). */
function stub(key: string): WatchedObject {
  const slash = key.indexOf('/');
  return slash === -1
    ? { metadata: { name: key } }
    : { metadata: { namespace: key.slice(0, slash), name: key.slice(slash + 1) } };
}

/** The lines of a watch stream (one JSON event each), whatever the chunking. */
async function* lines(body: Readable): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = buffered.indexOf('\n');
    while (end !== -1) {
      const line = buffered.slice(0, end).trim();
      buffered = buffered.slice(end + 1);
      if (line) yield line;
      end = buffered.indexOf('\n');
    }
  }
  if (buffered.trim()) yield buffered.trim();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
