import { Redis } from 'ioredis';
import type { CounterStore, GroupResult, LeaseResult, ReserveItem } from './counter-store.ts';
import { TurnBatch } from './turn-batch.ts';

/**
 * Reserves the groups of one batch (every request admitted in one turn of the event loop), each
 * atomically: all its items are added, or none (an enforced item would pass its limit). Groups are
 * taken in order, so a later one sees what an earlier one added. Per group, KEYS holds its
 * reservation marker then its counters; ARGV the marker lifetime, then per group its item count and
 * per item amount, limit, counter lifetime and 1 if enforced. Returns per group 1 or 0, then each
 * counter before. The marker records the amounts added, for CANCEL; a group whose marker exists
 * (sent again, or withdrawn by CANCEL first) changes nothing.
 *
 * Keys of different budgets meet in one script, so the store is one Redis (or a proxy in front of
 * one), not a Redis Cluster.
 */
const RESERVE_GROUPS = `
local out, k, a = {}, 1, 3
for g = 1, tonumber(ARGV[2]) do
  local n = tonumber(ARGV[a])
  a = a + 1
  local raw, used, fits = {}, {}, true
  for i = 1, n do
    raw[i] = redis.call('GET', KEYS[k + i])
    used[i] = tonumber(raw[i] or '0')
    local arg = a + 4 * (i - 1)
    if ARGV[arg + 3] == '1' and used[i] + tonumber(ARGV[arg]) > tonumber(ARGV[arg + 1]) then fits = false end
  end
  local seen = redis.call('EXISTS', KEYS[k]) == 1
  out[#out + 1] = (fits or seen) and 1 or 0
  local amounts = {}
  for i = 1, n do
    out[#out + 1] = used[i]
    local arg = a + 4 * (i - 1)
    amounts[i] = ARGV[arg]
    if fits and not seen then
      redis.call('INCRBY', KEYS[k + i], ARGV[arg])
      if not raw[i] then redis.call('PEXPIRE', KEYS[k + i], ARGV[arg + 2]) end
    end
  end
  if fits and not seen then redis.call('SET', KEYS[k], table.concat(amounts, ' '), 'PX', ARGV[1]) end
  k = k + 1 + n
  a = a + 4 * n
end
return out`;

/**
 * Withdraws a reservation whose reply was lost (a timeout while Redis stalled): KEYS holds its
 * marker then its counters. If it was applied, each counter gets its amount back; either way a
 * tombstone is left, so that the reservation, arriving late, is a no-op.
 */
const CANCEL = `
local marker = redis.call('GET', KEYS[1])
if marker == 'cancelled' then return 0 end
if marker then
  local i = 2
  for amount in string.gmatch(marker, '%S+') do
    redis.call('INCRBY', KEYS[i], -tonumber(amount))
    i = i + 1
  end
end
redis.call('SET', KEYS[1], 'cancelled', 'PX', ARGV[1])
return 1`;

/**
 * Lease up to ARGV[1] of what is left under the limit ARGV[2]: returns {granted, count after}. No
 * operation marker: a lease whose reply is lost only leaves tokens unused (the safe direction).
 */
const LEASE = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - used)
if n <= 0 then return {0, used} end
used = redis.call('INCRBY', KEYS[1], n)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return {n, used}`;

/** Replicas that heartbeated within this window count towards the fail-open share. */
const REPLICA_WINDOW_MS = 5_000;
const REPLICAS_KEY = 'sluice:replicas';

/**
 * Adds each delta to its counter unless its operation marker exists (already applied): KEYS holds
 * counter and marker pairs, ARGV the marker lifetime then delta and counter lifetime per pair.
 * Returns each counter after.
 */
const ADJUST_MANY = `
local out = {}
for i = 1, #KEYS / 2 do
  local key, delta, ttl = KEYS[2 * i - 1], ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call('EXISTS', KEYS[2 * i]) == 1 then
    out[i] = tonumber(redis.call('GET', key) or '0')
  else
    out[i] = redis.call('INCRBY', key, delta)
    if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ttl) end
    redis.call('SET', KEYS[2 * i], 1, 'PX', ARGV[1])
  end
end
return out`;

/** Most groups or changes in one script call: bounds how long one call keeps Redis busy. */
const MAX_BATCH = 128;

/** How long an applied operation id is remembered: replays after a longer outage may count twice. */
export const OPERATION_MEMORY_MS = 15 * 60_000;

/**
 * How long a reservation's marker is kept. Only a withdrawal needs it, sent as soon as Redis answers
 * again after a stall; an outage longer than this leaves a lost reservation counted (the safe way).
 * Short, because there is one per request: at 10,000 requests a second, 1.2 M keys.
 */
const RESERVATION_MEMORY_MS = 2 * 60_000;

export interface RedisStoreOptions {
  url: string;
  /** A command slower than this counts as Redis being unavailable. */
  commandTimeoutMs: number;
  onStateChange: (up: boolean) => void;
}

/** Budget counters shared by every proxy replica, in Redis through ioredis. */
export class RedisStore implements CounterStore {
  readonly #redis: Redis;
  #up = false;
  readonly #reservations = new TurnBatch<{ items: ReserveItem[]; opId: string }, GroupResult>(
    (groups) => this.#reserveGroups(groups),
    MAX_BATCH,
  );
  readonly #changes = new TurnBatch<{ key: string; delta: number; ttlMs: number; opId: string }, number>(
    (changes) => this.#adjustMany(changes),
    MAX_BATCH,
  );

  constructor(options: RedisStoreOptions) {
    this.#redis = new Redis(options.url, {
      // Fail fast while disconnected (the caller applies the policy's failure mode) and reconnect
      // in the background forever.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      // Commands issued in the same tick (concurrent requests, several budgets) share one write.
      enableAutoPipelining: true,
      lazyConnect: false,
    });
    this.#redis.on('ready', () => {
      this.#up = true;
      options.onStateChange(true);
    });
    this.#redis.on('close', () => {
      if (this.#up) options.onStateChange(false);
      this.#up = false;
    });
    this.#redis.on('error', () => {
      // Reported through onStateChange; ioredis reconnects by itself.
    });
    // Key counts vary per call: the first argument says how many keys follow.
    this.#redis.defineCommand('sluiceReserveGroups', { lua: RESERVE_GROUPS });
    this.#redis.defineCommand('sluiceAdjustMany', { lua: ADJUST_MANY });
    this.#redis.defineCommand('sluiceCancel', { lua: CANCEL });
    this.#redis.defineCommand('sluiceLease', { numberOfKeys: 1, lua: LEASE });
  }

  /** Connected and answering commands (a stalled server stays "ready" until commands time out). */
  get connected(): boolean {
    return this.#redis.status === 'ready';
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  /** Withdraws a reservation that may or may not have been applied (see CANCEL). */
  async cancel(keys: string[], opId: string): Promise<void> {
    await this.#scripts.sluiceCancel(keys.length + 1, reservationKey(opId), ...keys, RESERVATION_MEMORY_MS);
  }

  /** Says this replica is alive and returns how many replicas are. */
  async heartbeat(replicaId: string, now: number): Promise<number> {
    const [, , [, count]] = (await this.#redis
      .multi()
      .zadd(REPLICAS_KEY, now, replicaId)
      .zremrangebyscore(REPLICAS_KEY, '-inf', now - REPLICA_WINDOW_MS)
      .zcard(REPLICAS_KEY)
      .pexpire(REPLICAS_KEY, REPLICA_WINDOW_MS * 4)
      .exec()) as [unknown, unknown, [unknown, number], unknown];
    return Math.max(1, count);
  }

  get #scripts(): Scripted {
    return this.#redis as unknown as Scripted;
  }

  /** Joins this turn's batch: one script call reserves every group of the turn (see RESERVE_GROUPS). */
  reserveGroup(items: ReserveItem[], opId: string): Promise<GroupResult> {
    return this.#reservations.add({ items, opId });
  }

  async #reserveGroups(groups: { items: ReserveItem[]; opId: string }[]): Promise<GroupResult[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [RESERVATION_MEMORY_MS, groups.length];
    for (const { items, opId } of groups) {
      keys.push(reservationKey(opId));
      args.push(items.length);
      for (const item of items) {
        keys.push(item.key);
        args.push(item.amount, item.limit, item.ttlMs, item.enforce ? 1 : 0);
      }
    }
    const out = (await this.#scripts.sluiceReserveGroups(keys.length, ...keys, ...args)) as number[];
    let at = 0;
    return groups.map(({ items }) => {
      const admitted = out[at] === 1;
      const used = out.slice(at + 1, at + 1 + items.length);
      at += 1 + items.length;
      return { admitted, used };
    });
  }

  /** Takes up to `want` of what `limit` leaves in `key`: how many were granted, and the count after. */
  async lease(key: string, want: number, limit: number, ttlMs: number): Promise<LeaseResult> {
    const [granted, used] = (await this.#scripts.sluiceLease(key, want, limit, ttlMs)) as [number, number];
    return { granted, used };
  }

  /** Joins this turn's batch: one script call applies every change of the turn (see ADJUST_MANY). */
  adjust(key: string, delta: number, ttlMs: number, opId: string): Promise<number> {
    return this.#changes.add({ key, delta, ttlMs, opId });
  }

  async #adjustMany(
    changes: { key: string; delta: number; ttlMs: number; opId: string }[],
  ): Promise<number[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [OPERATION_MEMORY_MS];
    for (const c of changes) {
      keys.push(c.key, opKey(c.key, c.opId));
      args.push(c.delta, c.ttlMs);
    }
    return (await this.#scripts.sluiceAdjustMany(keys.length, ...keys, ...args)) as number[];
  }

  async get(key: string): Promise<number> {
    return Number((await this.#redis.get(key)) ?? 0);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

interface Scripted {
  sluiceReserveGroups(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown>;
  sluiceAdjustMany(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown>;
  sluiceCancel(numKeys: number, ...keysThenArgs: (string | number)[]): Promise<unknown>;
  sluiceLease(key: string, want: number, limit: number, ttlMs: number): Promise<unknown>;
}

function reservationKey(opId: string): string {
  return `sluice:reservation:${opId}`;
}

/** A change's marker key, beside its counter (the counter key's {hash tag}). */
function opKey(key: string, opId: string): string {
  return `${key}:op:${opId}`;
}
