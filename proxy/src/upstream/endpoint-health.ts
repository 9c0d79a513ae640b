import { timerMs } from '../timers/timer-ms.ts';

/** How one attempt to an endpoint ended: the status it answered, or no answer at all. */
export type AttemptOutcome = number | 'no-answer';

/**
 * What this proxy process knows about one upstream endpoint: requests in flight to it (LeastRequest),
 * since when it is in service (slow start), and whether active checks or passive outlier detection
 * took it out of service. One per origin (the pool registry shares it between pools of the host), so
 * it is shared by every route that uses the endpoint and survives config swaps; an ejected or
 * unhealthy endpoint is skipped by all of them.
 */
export class EndpointHealth {
  /** Requests relayed to the endpoint right now. */
  inFlight = 0;
  /** When the endpoint last came into service (first use, end of an ejection, passing checks again). */
  since = performance.now();
  /** False while an active checker calls it unhealthy or it is ejected. */
  usable = true;
  /** Times ejected; an ejection lasts base × this (Envoy's multiplier), forgiven one per healthy period. */
  ejections = 0;
  ejectedUntil = 0;
  /** Outcomes in a row, for passive outlier detection. */
  consecutive5xx = 0;
  consecutiveGatewayErrors = 0;
  consecutiveLocalFailures = 0;
  readonly #failingChecks = new Set<string>();
  #ejectionTimer: NodeJS.Timeout | undefined;
  readonly #onChange: (usable: boolean) => void;

  constructor(onChange: (usable: boolean) => void) {
    this.#onChange = onChange;
  }

  get ejected(): boolean {
    return this.#ejectionTimer !== undefined;
  }

  /** An active checker's verdict; the endpoint is usable only while no checker calls it unhealthy. */
  setCheck(checker: string, healthy: boolean): void {
    if (healthy) this.#failingChecks.delete(checker);
    else this.#failingChecks.add(checker);
    this.#update();
  }

  /** Takes the endpoint out of service for `ms` (passive outlier detection). */
  eject(ms: number): void {
    clearTimeout(this.#ejectionTimer);
    this.ejections++;
    this.ejectedUntil = performance.now() + ms;
    this.#ejectionTimer = setTimeout(() => {
      this.#ejectionTimer = undefined;
      this.consecutive5xx = this.consecutiveGatewayErrors = this.consecutiveLocalFailures = 0;
      this.#update();
    }, timerMs(ms));
    this.#ejectionTimer.unref();
    this.#update();
  }

  #update(): void {
    const usable = this.#failingChecks.size === 0 && this.#ejectionTimer === undefined;
    if (usable === this.usable) return;
    this.usable = usable;
    if (usable) this.since = performance.now();
    healthEpoch++;
    this.#onChange(usable);
  }
}

/**
 * Bumped whenever any endpoint goes in or out of service: a cluster recomputes its usable endpoints
 * only when this moved, so the hot path reads one number instead of filtering per request.
 */
export let healthEpoch = 0;
