import { timerMs } from './timer-ms.ts';

/**
 * A deadline that moves on every streamed chunk or datagram without touching Node's timer lists.
 * Clearing and re-creating a timeout per chunk cost a list removal, an insertion and a Timeout object
 * each time (a few percent of a relayed chunk's CPU); here moving the deadline is a field write, and
 * the one timer, when it fires before the deadline, sleeps again for what is left.
 */
const PRECISION_MS = 1;

export class MovableDeadline {
  readonly #onExpire: () => void;
  #deadline = Number.POSITIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  /** When the pending timer fires (performance.now() time). */
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(onExpire: () => void) {
    this.#onExpire = onExpire;
  }

  /** Expires `ms` from now (0 or less: at the next turn of the event loop), replacing any earlier setting. */
  set(ms: number): void {
    const now = performance.now();
    this.#deadline = now + Math.max(0, ms);
    // A later deadline is caught when the pending timer fires; only an earlier one needs a new timer.
    // Timers count whole milliseconds: a deadline recomputed from the same end (the request's, read a
    // few microseconds later) is not earlier.
    if (this.#deadline < this.#timerAt - PRECISION_MS) this.#schedule(this.#deadline - now);
  }

  clear(): void {
    this.#deadline = Number.POSITIVE_INFINITY;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!Number.isFinite(ms)) {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    // A wait longer than one timer can hold is slept in parts (see #fire).
    const sleep = timerMs(ms);
    this.#timerAt = performance.now() + sleep;
    this.#timer = setTimeout(() => this.#fire(), sleep);
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const left = this.#deadline - performance.now();
    // Node may fire a timer up to a millisecond early by performance.now(): that counts as expired.
    if (left > PRECISION_MS) {
      this.#schedule(left);
      return;
    }
    this.#deadline = Number.POSITIVE_INFINITY;
    this.#onExpire();
  }
}
