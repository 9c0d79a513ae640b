import type { Retry } from '../config/traffic.ts';

/** Connection errors meaning the request never reached the backend (safe to retry anywhere). */
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Why an attempt failed before the client saw any byte of its answer. */
export type AttemptFailure =
  | { kind: 'status'; status: number }
  | { kind: 'connect' }
  /** Reset, closed or timed out after the request may have reached the backend. */
  | { kind: 'reset' };

/**
 * A route's retry policy compiled once: which failures are retried (Envoy's retry-on semantics) and
 * how long to wait before each retry.
 */
export class RetryPolicy {
  readonly retries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly #connect: boolean;
  readonly #reset: boolean;
  readonly #statuses: (status: number) => boolean;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #floorMs: number;

  constructor(retry: Retry) {
    const on = new Set(retry.triggers);
    const codes = new Set(on.has('retriable-status-codes') ? retry.statusCodes : []);
    const any5xx = on.has('5xx');
    const gateway = on.has('gateway-error');
    const conflict = on.has('retriable-4xx');
    this.retries = retry.numRetries;
    this.perTryTimeoutMs = retry.perRetryTimeoutMs;
    // As Envoy: 5xx and gateway-error also cover a backend that never answered.
    this.#reset = any5xx || gateway || on.has('reset');
    this.#connect = this.#reset || on.has('connect-failure');
    this.#statuses = (s) =>
      codes.has(s) || (any5xx && s >= 500) || (gateway && s >= 502 && s <= 504) || (conflict && s === 409);
    this.#baseMs = retry.backOffBaseMs;
    this.#maxMs = Math.max(retry.backOffMaxMs, retry.backOffBaseMs);
    this.#floorMs = retry.backOffFloor ? retry.backOffBaseMs : 0;
  }

  /** Whether a response with this status is worth another attempt (before anything is relayed). */
  retriesStatus(status: number): boolean {
    return this.#statuses(status);
  }

  /** Whether a failed attempt is worth another one. */
  shouldRetry(failure: AttemptFailure): boolean {
    if (failure.kind === 'status') return this.#statuses(failure.status);
    return failure.kind === 'connect' ? this.#connect : this.#reset;
  }

  /** Jittered exponential back-off before retry `n` (1-based), never under the floor. */
  delayMs(n: number): number {
    const ceiling = Math.min(this.#maxMs, this.#baseMs * 2 ** (n - 1));
    return this.#floorMs + Math.random() * Math.max(0, ceiling - this.#floorMs);
  }
}

/** Classifies a relay error: a connection that was never made, or anything after that. */
export function failureOf(err: Error): AttemptFailure {
  let cause: unknown = err;
  for (let depth = 0; cause instanceof Error && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECT_ERRORS.has(code)) return { kind: 'connect' };
    cause = cause.cause;
  }
  return { kind: 'reset' };
}
