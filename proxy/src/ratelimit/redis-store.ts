import { Redis } from 'ioredis';
import type { CounterStore, LeaseResult, ReserveResult } from './counter-store.ts';

/**
 * Reserve atomically: add only if the total stays within the limit. One key per script call, so the
 * call is valid on Redis Cluster (keys carry a {hash tag} anyway to keep a budget's windows together).
 */
const RESERVE = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {1, tonumber(redis.call('GET', KEYS[1]) or '0')} end
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if used + amount > tonumber(ARGV[2]) then return {0, used} end
used = redis.call('INCRBY', KEYS[1], amount)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
redis.call('SET', KEYS[2], amount, 'PX', ARGV[4])
return {1, used}`;

/**
 * Undo a reservation whose reply was lost (a timeout while Redis stalled): if it was applied, give
 * its amount back; either way leave a tombstone so that the reservation, arriving late, is a no-op.
 */
const CANCEL = `
local marker = redis.call('GET', KEYS[2])
if marker == 'cancelled' then return 0 end
if marker then redis.call('INCRBY', KEYS[1], -tonumber(marker)) end
redis.call('SET', KEYS[2], 'cancelled', 'PX', ARGV[1])
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

const ADJUST = `
if redis.call('EXISTS', KEYS[2]) == 1 then return tonumber(redis.call('GET', KEYS[1]) or '0') end
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
redis.call('SET', KEYS[2], 1, 'PX', ARGV[3])
return used`;

/** How long an applied operation id is remembered: replays after a longer outage may count twice. */
export const OPERATION_MEMORY_MS = 15 * 60_000;

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
    this.#redis.defineCommand('sluiceReserve', { numberOfKeys: 2, lua: RESERVE });
    this.#redis.defineCommand('sluiceAdjust', { numberOfKeys: 2, lua: ADJUST });
    this.#redis.defineCommand('sluiceCancel', { numberOfKeys: 2, lua: CANCEL });
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
  async cancel(key: string, opId: string): Promise<void> {
    await this.#scripts.sluiceCancel(key, opKey(key, opId), OPERATION_MEMORY_MS);
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

  async reserve(
    key: string,
    amount: number,
    limit: number,
    ttlMs: number,
    opId: string,
  ): Promise<ReserveResult> {
    const [admitted, used] = (await this.#scripts.sluiceReserve(
      key,
      opKey(key, opId),
      amount,
      limit,
      ttlMs,
      OPERATION_MEMORY_MS,
    )) as [number, number];
    return { admitted: admitted === 1, used };
  }

  /** Takes up to `want` of what `limit` leaves in `key`: how many were granted, and the count after. */
  async lease(key: string, want: number, limit: number, ttlMs: number): Promise<LeaseResult> {
    const [granted, used] = (await this.#scripts.sluiceLease(key, want, limit, ttlMs)) as [number, number];
    return { granted, used };
  }

  async adjust(key: string, delta: number, ttlMs: number, opId: string): Promise<number> {
    return Number(await this.#scripts.sluiceAdjust(key, opKey(key, opId), delta, ttlMs, OPERATION_MEMORY_MS));
  }

  async get(key: string): Promise<number> {
    return Number((await this.#redis.get(key)) ?? 0);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}

interface Scripted {
  sluiceReserve(
    key: string,
    op: string,
    amount: number,
    limit: number,
    ttlMs: number,
    opTtlMs: number,
  ): Promise<unknown>;
  sluiceAdjust(key: string, op: string, delta: number, ttlMs: number, opTtlMs: number): Promise<unknown>;
  sluiceCancel(key: string, op: string, opTtlMs: number): Promise<unknown>;
  sluiceLease(key: string, want: number, limit: number, ttlMs: number): Promise<unknown>;
}

/** The operation's marker key, in the counter's Redis Cluster slot (the counter key's {hash tag}). */
function opKey(key: string, opId: string): string {
  return `${key}:op:${opId}`;
}
