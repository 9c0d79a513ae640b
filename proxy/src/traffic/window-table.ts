/** Most buckets kept at once; Distinct selectors make one per header value or client address. */
const MAX_BUCKETS = 200_000;

/**
 * Per-key state for the current fixed window of rate limits (local counts, leases of global ones).
 * Owned by the runtime, so a config reload does not hand every client a fresh allowance. Bounded:
 * when full, buckets of past windows are dropped; if every bucket is current, the oldest-created go
 * first (their clients then start a fresh window: the limit errs open, never on clients it never saw).
 */
export class WindowTable<T> {
  readonly #buckets = new Map<string, { start: number; end: number; state: T }>();
  readonly #fresh: () => T;

  constructor(fresh: () => T) {
    this.#fresh = fresh;
  }

  /** The state of `key` in the window [start, end), fresh when the window moved on. */
  get(key: string, start: number, end: number): T {
    let bucket = this.#buckets.get(key);
    if (!bucket || bucket.start !== start) {
      if (!bucket && this.#buckets.size >= MAX_BUCKETS) this.#evict(start);
      bucket = { start, end, state: this.#fresh() };
      this.#buckets.set(key, bucket);
    }
    return bucket.state;
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

/** A local rule's count in its window. */
export interface LocalCount {
  used: number;
}

/**
 * A global rule's share of its window, leased from Redis in chunks so most requests need no round
 * trip: `left` tokens may be spent here; `seen` is Redis's count after the last lease; `exhausted`
 * once Redis had nothing left (a window never gets tokens back, so refusals need no round trip either).
 */
export interface GlobalLease {
  left: number;
  seen: number;
  exhausted: boolean;
  fetching: Promise<undefined | 'unavailable'> | undefined;
}
