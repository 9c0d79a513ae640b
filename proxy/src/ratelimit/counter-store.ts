/**
 * Where budget counters live: integers (tokens, or micro-dollars for USD budgets; the caller converts).
 * Every change carries an operation id so that a change retried after a lost reply (a timeout, a
 * connection cut mid-command) is applied at most once.
 */

/** One budget's share of a request's reservation. */
export interface ReserveItem {
  key: string;
  amount: number;
  limit: number;
  ttlMs: number;
  /** False for shadow budgets: counted even past the limit, never refusing the group. */
  enforce: boolean;
}

export interface GroupResult {
  /** Every item was added; false: none was (an enforced item would have passed its limit). */
  admitted: boolean;
  /** Each item's counter before the call, in order. */
  used: number[];
}

export interface CounterStore {
  /**
   * Reserves a request's amounts in all its budgets at once: all are added, or none is (atomic), so
   * a request refused by one budget never holds, and never has to give back, another.
   */
  reserveGroup(items: ReserveItem[], opId: string): Promise<GroupResult>;
  /** Adds `delta` (negative refunds) unconditionally; returns the new value. */
  adjust(key: string, delta: number, ttlMs: number, opId: string): Promise<number>;
  /** Takes up to `want` of what `limit` leaves in `key` (rate-limit leases): granted, and the count after. */
  lease(key: string, want: number, limit: number, ttlMs: number): Promise<LeaseResult>;
  get(key: string): Promise<number>;
}

export interface LeaseResult {
  granted: number;
  used: number;
}
