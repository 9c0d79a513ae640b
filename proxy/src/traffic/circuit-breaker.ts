import type { CircuitBreaker } from '../config/traffic.ts';

/** Envoy's default queue behind maxConnections when maxPendingRequests is not set. */
const DEFAULT_MAX_PENDING = 1024;

/**
 * The circuit breaker of one route rule toward one backend: how many exchanges may run at once, how
 * many may wait for one of those, and how many retries may run at once. A request over a threshold is
 * refused at once (503 `upstream_overloaded`) rather than piling onto a backend that is not keeping
 * up. The counts live as long as the process (see TrafficState), so a reload does not reset them
 * while old requests still run.
 */
export class BreakerGate {
  readonly #limits: CircuitBreaker;
  #active = 0;
  #retries = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(limits: CircuitBreaker) {
    this.#limits = limits;
  }

  /** Same thresholds: a reloaded config that did not change them keeps this gate and its counts. */
  sameLimits(limits: CircuitBreaker): boolean {
    const a = this.#limits;
    return (
      a.maxConnections === limits.maxConnections &&
      a.maxPendingRequests === limits.maxPendingRequests &&
      a.maxParallelRequests === limits.maxParallelRequests &&
      a.maxParallelRetries === limits.maxParallelRetries
    );
  }

  /**
   * Admits one exchange: a release function when it may run now, undefined when a threshold refuses
   * it, or a promise of either when it must wait its turn. `abandoned` (called only then) resolves
   * when the client goes away while waiting.
   */
  enter(abandoned: () => Promise<void>): (() => void) | undefined | Promise<(() => void) | undefined> {
    const { maxConnections, maxParallelRequests } = this.#limits;
    const inFlight = this.#active + this.#waiting.length;
    if (maxParallelRequests !== undefined && inFlight >= maxParallelRequests) return undefined;
    if (maxConnections === undefined || this.#active < maxConnections) {
      this.#active++;
      return this.#release();
    }
    if (this.#waiting.length >= (this.#limits.maxPendingRequests ?? DEFAULT_MAX_PENDING)) return undefined;
    return this.#wait(abandoned());
  }

  async #wait(abandoned: Promise<void>): Promise<(() => void) | undefined> {
    let turn!: () => void;
    const granted = new Promise<'turn'>((resolve) => {
      turn = () => resolve('turn');
    });
    this.#waiting.push(turn);
    const outcome = await Promise.race([granted, abandoned.then(() => 'gone' as const)]);
    if (outcome === 'gone') {
      const at = this.#waiting.indexOf(turn);
      if (at >= 0) this.#waiting.splice(at, 1);
      // Granted in the same tick as abandoned: the slot was handed over, so pass it on.
      else this.#handOver();
      return undefined;
    }
    return this.#release();
  }

  /** Whether one more retry may run now; if so it is counted until the returned release is called. */
  enterRetry(): (() => void) | undefined {
    const max = this.#limits.maxParallelRetries;
    if (max !== undefined && this.#retries >= max) return undefined;
    this.#retries++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#retries--;
    };
  }

  get active(): number {
    return this.#active;
  }

  get pending(): number {
    return this.#waiting.length;
  }

  #release(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#handOver();
    };
  }

  /** A slot frees: the next waiting request takes it (the active count stays), or it is returned. */
  #handOver(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#active--;
  }
}
