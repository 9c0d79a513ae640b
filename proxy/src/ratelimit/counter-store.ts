/**
 * Where budget counters live: integers (tokens, or micro-dollars for USD budgets; the caller converts).
 * Every change carries an operation id so that a change retried after a lost reply (a timeout, a
 * connection cut mid-command) is applied at most once.
 */
export interface ReserveResult {
  admitted: boolean;
  /** Counter value after the call (or the value that refused it). */
  used: number;
}

export interface CounterStore {
  /** Adds `amount` only if the result stays within `limit` (atomic). */
  reserve(key: string, amount: number, limit: number, ttlMs: number, opId: string): Promise<ReserveResult>;
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
