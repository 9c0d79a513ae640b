/**
 * A keyed, de-duplicating work queue for level-triggered reconciles (the client-go pattern): a key is
 * queued at most once, a key being processed that is added again runs once more afterwards, and a
 * failed key comes back after a per-key exponential backoff combined with an overall token bucket,
 * so one broken object cannot starve the rest or hammer the API server.
 */
export interface WorkQueueOptions {
  /** Per-key backoff: base * 2^failures, capped (client-go: 5 ms … 1000 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Overall requeue rate limit (client-go: 10 per second, burst 100). */
  ratePerSecond?: number;
  burst?: number;
  /** Keys processed at once. */
  concurrency?: number;
}

export type Reconcile = (key: string) => Promise<void>;

export class WorkQueue {
  readonly #reconcile: Reconcile;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #ratePerSecond: number;
  readonly #burst: number;
  readonly #concurrency: number;
  /** Keys waiting, in arrival order (a Set keeps order and de-duplicates). */
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  /** Keys re-added while being processed: they run again once the current run ends. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #idleWaiters: (() => void)[] = [];
  #tokens: number;
  #lastRefill = Date.now();
  #running = 0;
  #paused = true;
  #stopped = false;
  onError: (key: string, err: unknown) => void = () => {};
  onDone: (key: string, ok: boolean, seconds: number) => void = () => {};

  constructor(reconcile: Reconcile, options: WorkQueueOptions = {}) {
    this.#reconcile = reconcile;
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.#ratePerSecond = options.ratePerSecond ?? 10;
    this.#burst = options.burst ?? 100;
    this.#concurrency = options.concurrency ?? 4;
    this.#tokens = this.#burst;
  }

  get depth(): number {
    return this.#queued.size;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    this.#queued.add(key);
    this.#pump();
  }

  /** Starts (or resumes) processing; keys added while paused wait. */
  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  pause(): void {
    this.#paused = true;
  }

  /** Stops taking work; resolves when the keys being processed are done. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#queued.clear();
    if (this.#running > 0) await new Promise<void>((r) => this.#idleWaiters.push(r));
  }

  /** Resolves when nothing is queued, running or waiting to retry. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #isIdle(): boolean {
    return this.#running === 0 && this.#queued.size === 0 && this.#timers.size === 0;
  }

  #pump(): void {
    while (!this.#paused && !this.#stopped && this.#running < this.#concurrency && this.#queued.size > 0) {
      const key = this.#queued.values().next().value as string;
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#running++;
      void this.#run(key);
    }
  }

  async #run(key: string): Promise<void> {
    const started = performance.now();
    let ok = true;
    try {
      await this.#reconcile(key);
      this.#failures.delete(key);
    } catch (err) {
      ok = false;
      this.onError(key, err);
      this.#retryLater(key);
    }
    this.onDone(key, ok, (performance.now() - started) / 1000);
    this.#processing.delete(key);
    this.#running--;
    if (this.#dirty.delete(key)) this.add(key);
    this.#pump();
    if (this.#isIdle() || (this.#stopped && this.#running === 0))
      for (const w of this.#idleWaiters.splice(0)) w();
  }

  #retryLater(key: string): void {
    if (this.#stopped) return;
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const backoff = Math.min(this.#baseDelayMs * 2 ** (failures - 1), this.#maxDelayMs);
    const delay = Math.max(backoff, this.#takeToken());
    clearTimeout(this.#timers.get(key));
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        this.add(key);
      }, delay),
    );
  }

  /** Milliseconds until the overall bucket allows one more retry (0 when a token is free). */
  #takeToken(): number {
    const now = Date.now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#lastRefill) / 1000) * this.#ratePerSecond,
    );
    this.#lastRefill = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.#ratePerSecond) * 1000;
  }
}
