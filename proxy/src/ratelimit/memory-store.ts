import type { CounterStore, GroupResult, LeaseResult, ReserveItem } from './counter-store.ts';

/**
 * Counters in this process: the default for one replica or standalone, and the fail-open fallback.
 * Operations cannot be lost between a command and its reply here, so operation ids are not needed.
 */
export class MemoryStore implements CounterStore {
  readonly #counters = new Map<string, { value: number; expires: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  #entry(key: string, ttlMs: number): { value: number; expires: number } {
    const now = this.#now();
    let e = this.#counters.get(key);
    if (!e || e.expires <= now) {
      e = { value: 0, expires: now + ttlMs };
      this.#counters.set(key, e);
      if (this.#counters.size % 1024 === 0) this.#sweep(now);
    }
    return e;
  }

  #sweep(now: number): void {
    for (const [k, e] of this.#counters) if (e.expires <= now) this.#counters.delete(k);
  }

  async reserveGroup(items: ReserveItem[], _opId?: string): Promise<GroupResult> {
    const entries = items.map((i) => this.#entry(i.key, i.ttlMs));
    const used = entries.map((e) => e.value);
    // A group's keys are distinct (each names its budget), so each item is checked on its own.
    const admitted = items.every((item, n) => !item.enforce || used[n]! + item.amount <= item.limit);
    if (admitted) for (let n = 0; n < items.length; n++) entries[n]!.value += items[n]!.amount;
    return { admitted, used };
  }

  async adjust(key: string, delta: number, ttlMs: number, _opId?: string): Promise<number> {
    const e = this.#entry(key, ttlMs);
    e.value += delta;
    return e.value;
  }

  async lease(key: string, want: number, limit: number, ttlMs: number): Promise<LeaseResult> {
    const e = this.#entry(key, ttlMs);
    const granted = Math.max(0, Math.min(want, limit - e.value));
    e.value += granted;
    return { granted, used: e.value };
  }

  async get(key: string): Promise<number> {
    const e = this.#counters.get(key);
    return e && e.expires > this.#now() ? e.value : 0;
  }
}
