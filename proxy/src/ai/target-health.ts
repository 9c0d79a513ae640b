/**
 * Circuit breaker per target: N consecutive failures take a target out for D ms; a 429 with
 * Retry-After takes it out for that long. One success closes it again.
 */
export class TargetHealth {
  #consecutiveFailures = 0;
  #openUntil = 0;
  readonly #threshold: number;
  readonly #cooldownMs: number;

  constructor(threshold: number, cooldownMs: number) {
    this.#threshold = threshold;
    this.#cooldownMs = cooldownMs;
  }

  available(now: number): boolean {
    return now >= this.#openUntil;
  }

  /** When the target comes back, for picking the least-bad one when every target is out. */
  get openUntil(): number {
    return this.#openUntil;
  }

  succeeded(): void {
    this.#consecutiveFailures = 0;
    this.#openUntil = 0;
  }

  failed(now: number, retryAfterMs?: number): void {
    this.#consecutiveFailures++;
    if (retryAfterMs !== undefined) this.#openUntil = Math.max(this.#openUntil, now + retryAfterMs);
    if (this.#consecutiveFailures >= this.#threshold) {
      this.#openUntil = Math.max(this.#openUntil, now + this.#cooldownMs);
      this.#consecutiveFailures = 0;
    }
  }
}
