import { randomUUID } from 'node:crypto';
import type { CounterStore, GroupResult, ReserveItem } from './counter-store.ts';
import { MemoryStore } from './memory-store.ts';
import type { RedisStore } from './redis-store.ts';

export type StoreOutcome<T> = { ok: true; value: T; degraded: boolean } | { ok: false };

/** A request's reservation: as CounterStore's, plus the items that could not be counted at all. */
export interface GroupOutcome extends GroupResult {
  /** Items of FailClosed budgets while Redis is unreachable (none added, by index). */
  unavailable: number[];
  degraded: boolean;
}

/** What to do when the shared store is unreachable. */
export type FailureMode = 'FailOpen' | 'FailClosed';

/** A change the shared store has not confirmed: replayed (charges) or withdrawn (reservations). */
type Pending =
  | { kind: 'charge'; key: string; delta: number; ttlMs: number; opId: string }
  | { kind: 'cancel'; keys: string[]; opId: string };

const MAX_PENDING = 100_000;
/** Most remembered "last seen" counter values (for the fail-open share); oldest dropped first. */
const MAX_SEEN = 100_000;
/** While degraded, how often Redis is probed (and the queue replayed once it answers). */
const PROBE_MS = 250;
/** How often a replica says it is alive, so every replica knows how many share a budget. */
const HEARTBEAT_MS = 1_000;
/**
 * The replica count used is the largest heard over this long: a count that dips (a heartbeat that
 * saw the others' entries expire while Redis was down) must not hand one replica the whole budget.
 * Erring high only makes fail-open shares smaller.
 */
const REPLICA_MEMORY_MS = 60_000;
/** Changes sent at once during a replay (ioredis pipelines them). */
const REPLAY_BATCH = 256;

export interface ResilientStoreOptions {
  onDegraded: (degraded: boolean) => void;
  /** Changes waiting to be replayed or withdrawn, after each change of that number. */
  onPending?: (pending: number) => void;
  /** The replica count fail-open shares are divided by, after each heartbeat. */
  onReplicas?: (replicas: number) => void;
  /**
   * Without Redis, where counters live when several worker processes serve one pod: the primary
   * process's (see workers/pod-counters.ts). Absent: in this process.
   */
  podCounters?: CounterStore;
  now?: () => number;
}

/**
 * The shared Redis store with a local fallback.
 *
 * While Redis is unreachable (down, or stalled so that commands time out), fail-open budgets count
 * in this process and every change is queued; fail-closed budgets refuse. A probe runs every 250 ms
 * while degraded and, as soon as Redis answers, replays the queue in pipelined batches until it is
 * empty (a command that times out is retried on the next probe, never dropped), then clears the
 * degraded state. Every change carries an operation id, so one Redis applied late (after a stall) is
 * not counted twice on replay; a reservation refused or answered locally because its reply was lost
 * is withdrawn in Redis (CANCEL), so a refused request never keeps budget.
 *
 * Fail-open overshoot is bounded: while degraded, this replica admits at most its share of what was
 * left of each budget when it last heard from Redis, `(limit - lastSeen) / replicas`, where replicas
 * is the largest number that heartbeated (every second, counted over 5 s) in the last minute. All replicas together then admit at most what was
 * left (plus what in-flight requests use beyond their estimates). A budget this replica never saw
 * gets `limit / replicas`.
 */
export class ResilientStore {
  readonly #primary: CounterStore;
  readonly #redis: RedisStore | undefined;
  #local: MemoryStore;
  readonly #pending: Pending[] = [];
  readonly #lastSeen = new Map<string, number>();
  /** Changes of this turn of the event loop, summed per key (see adjust). */
  readonly #charges = new Map<
    string,
    { delta: number; ttlMs: number; done: Promise<void>; applied: () => void }
  >();
  readonly #options: ResilientStoreOptions;
  readonly #now: () => number;
  readonly #replicaId = randomUUID();
  #replicaCounts: { at: number; count: number }[] = [];
  #degraded = false;
  #probe: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #replaying = false;
  #opSeq = 0;

  constructor(redis: RedisStore | undefined, options: ResilientStoreOptions) {
    this.#redis = redis;
    this.#now = options.now ?? Date.now;
    this.#local = new MemoryStore(this.#now);
    this.#primary = redis ?? options.podCounters ?? this.#local;
    this.#options = options;
    if (redis) {
      this.#beat();
      this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
      this.#heartbeat.unref();
    }
  }

  /** Redis (re)connected: say this replica is alive and replay now rather than at the next probe. */
  recovered(): Promise<void> {
    this.#beat();
    return this.#replay();
  }

  #beat(): void {
    this.#redis?.heartbeat(this.#replicaId, this.#now()).then(
      (count) => {
        const now = this.#now();
        this.#replicaCounts = [
          ...this.#replicaCounts.filter((c) => now - c.at < REPLICA_MEMORY_MS),
          { at: now, count },
        ];
        this.#options.onReplicas?.(this.replicas);
      },
      () => {},
    );
  }

  get pendingCharges(): number {
    return this.#pending.length;
  }

  get degraded(): boolean {
    return this.#degraded;
  }

  /** Replicas sharing budgets, as last heard from Redis (1 without Redis). */
  get replicas(): number {
    return Math.max(1, ...this.#replicaCounts.map((c) => c.count));
  }

  /**
   * Reserves a request's amounts in all its budgets at once (see CounterStore.reserveGroup). While
   * Redis is unreachable, items of FailClosed budgets cannot be counted (`unavailable`, by index) and
   * the rest count locally within this replica's share; a group with an unavailable enforced item is
   * refused whole.
   */
  async reserveGroup(items: ReserveItem[], modes: FailureMode[]): Promise<GroupOutcome> {
    const opId = this.#nextOpId();
    // While degraded, new reservations do not wait for commands to time out one by one.
    if (!this.#degraded || !this.#redis) {
      try {
        const result = await this.#primary.reserveGroup(items, opId);
        if (this.#redis)
          for (let i = 0; i < items.length; i++)
            this.#remember(items[i]!.key, result.used[i]! + (result.admitted ? items[i]!.amount : 0));
        return { ...result, unavailable: [], degraded: false };
      } catch {
        this.#setDegraded(true);
        // The group may still be applied by a stalled Redis: withdraw it there, whatever follows.
        this.#queue({ kind: 'cancel', keys: items.map((i) => i.key), opId });
      }
    }
    const unavailable = modes.flatMap((mode, i) => (mode === 'FailClosed' ? [i] : []));
    const counted = items.map((item, i) =>
      modes[i] === 'FailClosed'
        ? { ...item, amount: 0, enforce: false }
        : { ...item, limit: this.#localLimit(item.key, item.limit) },
    );
    const refused = unavailable.some((i) => items[i]!.enforce);
    const result = refused
      ? { admitted: false, used: counted.map(() => 0) }
      : await this.#local.reserveGroup(counted);
    if (result.admitted)
      for (const item of counted)
        if (item.amount !== 0)
          this.#queue({
            kind: 'charge',
            key: item.key,
            delta: item.amount,
            ttlMs: item.ttlMs,
            opId: this.#nextOpId(),
          });
    return { ...result, unavailable, degraded: true };
  }

  /**
   * Takes up to `want` of what `limit` leaves in a counter (rate-limit leases). While Redis is
   * unreachable: FailClosed is refused; FailOpen grants one at a time from this replica's share,
   * charged to Redis once it is back (as reservations are).
   */
  async lease(
    key: string,
    want: number,
    limit: number,
    ttlMs: number,
    mode: FailureMode,
  ): Promise<StoreOutcome<{ granted: number; used: number }>> {
    const redis = this.#redis;
    if (!redis) {
      try {
        return { ok: true, value: await this.#primary.lease(key, want, limit, ttlMs), degraded: false };
      } catch {
        // Only the pod's primary process can be unreachable here (it is exiting): refuse, never guess.
        return { ok: false };
      }
    }
    if (!this.#degraded) {
      try {
        const value = await redis.lease(key, want, limit, ttlMs);
        this.#remember(key, value.used);
        return { ok: true, value, degraded: false };
      } catch {
        this.#setDegraded(true);
      }
    }
    if (mode === 'FailClosed') return { ok: false };
    const local = await this.#local.reserveGroup([
      { key, amount: 1, limit: this.#localLimit(key, limit), ttlMs, enforce: true },
    ]);
    const granted = local.admitted ? 1 : 0;
    if (granted) this.#queue({ kind: 'charge', key, delta: 1, ttlMs, opId: this.#nextOpId() });
    return { ok: true, value: { granted, used: local.used[0]! + granted }, degraded: true };
  }

  /**
   * Adds `delta` to a counter. Changes made in one turn of the event loop (the settlements of every
   * request that finished in it) are summed per key and sent as one command at the end of the turn:
   * under load a counter costs one Redis command per turn instead of one per request. The promise
   * settles once the sum is applied (or queued for replay, see #apply).
   */
  adjust(key: string, delta: number, ttlMs: number): Promise<void> {
    if (delta === 0) return Promise.resolve();
    let charge = this.#charges.get(key);
    if (!charge) {
      let applied!: () => void;
      const done = new Promise<void>((resolve) => {
        applied = resolve;
      });
      charge = { delta: 0, ttlMs, done, applied };
      if (this.#charges.size === 0) setImmediate(() => this.#flushCharges());
      this.#charges.set(key, charge);
    }
    charge.delta += delta;
    charge.ttlMs = Math.max(charge.ttlMs, ttlMs);
    return charge.done;
  }

  #flushCharges(): void {
    const charges = [...this.#charges];
    this.#charges.clear();
    for (const [key, c] of charges) void this.#apply(key, c.delta, c.ttlMs).finally(c.applied);
  }

  /** One summed change: to Redis, or (unreachable, stalling) locally and queued for replay. */
  async #apply(key: string, delta: number, ttlMs: number): Promise<void> {
    if (delta === 0) return;
    const opId = this.#nextOpId();
    if (!this.#degraded || !this.#redis) {
      try {
        await this.#primary.adjust(key, delta, ttlMs, opId);
        return;
      } catch {
        this.#setDegraded(true);
      }
    }
    await this.#local.adjust(key, delta, ttlMs);
    // Same id as the lost command: if Redis did apply it, the replay is a no-op.
    this.#queue({ kind: 'charge', key, delta, ttlMs, opId });
  }

  /** Unique across replicas and restarts (the replica id is random), cheaper than a UUID per change. */
  #nextOpId(): string {
    return `${this.#replicaId}.${(this.#opSeq++).toString(36)}`;
  }

  /** Stops the probe and heartbeat timers (the store itself is closed by its owner). */
  close(): void {
    clearInterval(this.#probe);
    clearInterval(this.#heartbeat);
  }

  /** What this replica may admit of a budget while degraded: its share of what was left when last seen. */
  #localLimit(key: string, limit: number): number {
    const seen = this.#lastSeen.get(key) ?? 0;
    return Math.floor(Math.max(0, limit - seen) / this.replicas);
  }

  #remember(key: string, used: number): void {
    // Insertion order, not last use, decides which key goes first past MAX_SEEN: a busy key dropped
    // there is back at its next admission, and keeping it ordered cost a delete per admission.
    this.#lastSeen.set(key, used);
    if (this.#lastSeen.size > MAX_SEEN) this.#lastSeen.delete(this.#lastSeen.keys().next().value as string);
  }

  #queue(change: Pending): void {
    if (this.#pending.length < MAX_PENDING) this.#pending.push(change);
    this.#options.onPending?.(this.#pending.length);
  }

  async #replay(): Promise<void> {
    const redis = this.#redis;
    if (!redis || this.#replaying) return;
    this.#replaying = true;
    try {
      await redis.ping();
      while (this.#pending.length > 0) {
        const batch = this.#pending.slice(0, REPLAY_BATCH);
        await Promise.all(
          batch.map((c) =>
            c.kind === 'charge'
              ? redis.adjust(c.key, c.delta, c.ttlMs, c.opId)
              : redis.cancel(c.keys, c.opId),
          ),
        );
        this.#pending.splice(0, batch.length);
        this.#options.onPending?.(this.#pending.length);
      }
      // Local counts were only a stand-in for Redis: the next outage starts from what Redis says.
      this.#local = new MemoryStore(this.#now);
      this.#setDegraded(false);
    } catch {
      // Still unreachable or stalling: the probe tries again; nothing queued is dropped.
    } finally {
      this.#replaying = false;
    }
  }

  #setDegraded(degraded: boolean): void {
    if (degraded === this.#degraded) return;
    this.#degraded = degraded;
    if (degraded) {
      this.#probe = setInterval(() => void this.#replay(), PROBE_MS);
      this.#probe.unref();
    } else clearInterval(this.#probe);
    this.#options.onDegraded(degraded);
  }
}
