/**
 * Collects the calls made in one turn of the event loop and sends them as one operation at its end:
 * under load, the budget changes of every request that reached the same stage in that turn cost one
 * Redis command instead of one each (the command's own cost in ioredis — its object, timer, promise
 * and reply parse — was most of what budgets added per request). A call waits at most one turn.
 */
export class TurnBatch<Item, Result> {
  readonly #send: (items: Item[]) => Promise<Result[]>;
  readonly #maxItems: number;
  #items: Item[] = [];
  #waiters: { resolve: (r: Result) => void; reject: (e: unknown) => void }[] = [];

  /** `send` answers every item, in order; a rejection fails every call of that batch. */
  constructor(send: (items: Item[]) => Promise<Result[]>, maxItems: number) {
    this.#send = send;
    this.#maxItems = maxItems;
  }

  add(item: Item): Promise<Result> {
    if (this.#items.length === 0) setImmediate(() => this.#flush());
    this.#items.push(item);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #flush(): void {
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    for (let start = 0; start < items.length; start += this.#maxItems) {
      const batch = waiters.slice(start, start + this.#maxItems);
      this.#send(items.slice(start, start + this.#maxItems)).then(
        (results) => {
          for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i] as Result);
        },
        (error: unknown) => {
          for (const w of batch) w.reject(error);
        },
      );
    }
  }
}
