import { randomUUID } from 'node:crypto';
import type { CounterStore, ReserveResult } from './counter-store.ts';
import { MemoryStore } from './memory-store.ts';
import type { RedisStore } from './redis-store.ts';

export type StoreOutcome<T> = { ok: true; value: T; degraded: boolean } | { ok: false };

/** What to do when the shared store is unreachable. */
export type FailureMode = 'FailOpen' | 'FailClosed';

const MAX_PENDING = 100_000;

/**
 * The shared Redis store with a local fallback. While Redis is unreachable, fail-open budgets count in
 * this process and every charge is queued; when Redis is back the queue is replayed there, so nothing
 * already charged is lost. Fail-closed budgets refuse instead.
 */
export class ResilientStore {
  readonly #primary: CounterStore;
  readonly #redis: RedisStore | undefined;
  readonly #local: MemoryStore;
  readonly #pending: { key: string; delta: number; ttlMs: number; opId: string }[] = [];
  readonly #onDegraded: (degraded: boolean) => void;
  #degraded = false;

  constructor(
    redis: RedisStore | undefined,
    onDegraded: (degraded: boolean) => void,
    now: () => number = Date.now,
  ) {
    this.#redis = redis;
    this.#local = new MemoryStore(now);
    this.#primary = redis ?? this.#local;
    this.#onDegraded = onDegraded;
  }

  /** Replays charges queued during an outage; call when the shared store is reachable again. */
  async recovered(): Promise<void> {
    const redis = this.#redis;
    if (!redis) return;
    while (this.#pending.length > 0) {
      const next = this.#pending[0]!;
      try {
        await redis.adjust(next.key, next.delta, next.ttlMs, next.opId);
      } catch {
        return;
      }
      this.#pending.shift();
    }
    this.#setDegraded(false);
  }

  get pendingCharges(): number {
    return this.#pending.length;
  }

  async reserve(
    key: string,
    amount: number,
    limit: number,
    ttlMs: number,
    mode: FailureMode,
  ): Promise<StoreOutcome<ReserveResult>> {
    const opId = randomUUID();
    try {
      const value = await this.#primary.reserve(key, amount, limit, ttlMs, opId);
      return { ok: true, value, degraded: false };
    } catch {
      this.#setDegraded(true);
      if (mode === 'FailClosed') return { ok: false };
      const value = await this.#local.reserve(key, amount, limit, ttlMs);
      // Replayed with the same id: if Redis did apply it before the reply was lost, it is not counted twice.
      if (value.admitted) this.#queue(key, amount, ttlMs, opId);
      return { ok: true, value, degraded: true };
    }
  }

  async adjust(key: string, delta: number, ttlMs: number): Promise<void> {
    if (delta === 0) return;
    const opId = randomUUID();
    try {
      await this.#primary.adjust(key, delta, ttlMs, opId);
    } catch {
      this.#setDegraded(true);
      await this.#local.adjust(key, delta, ttlMs);
      this.#queue(key, delta, ttlMs, opId);
    }
  }

  #queue(key: string, delta: number, ttlMs: number, opId: string): void {
    if (this.#pending.length < MAX_PENDING) this.#pending.push({ key, delta, ttlMs, opId });
  }

  #setDegraded(degraded: boolean): void {
    if (degraded === this.#degraded) return;
    this.#degraded = degraded;
    this.#onDegraded(degraded);
  }
}
