/** Most buckets kept at once; Distinct selectors make one per header value or client address. */
const MAX_BUCKETS = 200_000;

/**
 * The counters of local rate limits: one per bucket key, for the current fixed window. Owned by the
 * runtime, so a config reload does not hand every client a fresh allowance. Bounded: when full,
 * buckets of past windows are dropped; if every bucket is current, the oldest-created go first
 * (their clients then start a fresh window: the limit errs open, never on clients it never saw).
 */
export class LocalWindows {
  readonly #buckets = new Map<string, { start: number; end: number; used: number }>();

  /** Counts one request in `key`'s window and returns the count including it. */
  take(key: string, start: number, end: number): number {
    let bucket = this.#buckets.get(key);
    if (!bucket || bucket.start !== start) {
      if (!bucket && this.#buckets.size >= MAX_BUCKETS) this.#evict(start);
      bucket = { start, end, used: 0 };
      this.#buckets.set(key, bucket);
    }
    return ++bucket.used;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Drops buckets whose window ended by `windowStart`, then the oldest-created if still too many. */
  #evict(windowStart: number): void {
    for (const [key, bucket] of this.#buckets) if (bucket.end <= windowStart) this.#buckets.delete(key);
    const excess = this.#buckets.size - MAX_BUCKETS + MAX_BUCKETS / 10;
    if (excess <= 0) return;
    let dropped = 0;
    for (const key of this.#buckets.keys()) {
      if (dropped++ >= excess) break;
      this.#buckets.delete(key);
    }
  }
}
