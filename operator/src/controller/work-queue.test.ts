import { describe, expect, it, vi } from 'vitest';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('runs a key once however often it is added while queued', async () => {
    const runs: string[] = [];
    const q = new WorkQueue(async (k) => {
      runs.push(k);
    });
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    q.resume();
    await q.idle();
    expect(runs.sort()).toEqual(['a', 'b']);
  });

  it('runs a key again when it changed while being processed, never twice at once', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => {};
    const q = new WorkQueue(async () => {
      running++;
      runs++;
      maxRunning = Math.max(maxRunning, running);
      if (runs === 1) await new Promise<void>((r) => (release = r));
      running--;
    });
    q.resume();
    q.add('a');
    await new Promise((r) => setImmediate(r));
    q.add('a');
    q.add('a');
    release();
    await q.idle();
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('retries a failing key with growing delays and forgets the failures after a success', async () => {
    // The queue's clock (timers and Date) is vitest's fake one: delays are checked exactly, not raced.
    vi.useFakeTimers();
    try {
      let runs = 0;
      const q = new WorkQueue(
        async () => {
          runs++;
          if (runs < 4) throw new Error('boom');
        },
        { baseDelayMs: 20 },
      );
      const errors: string[] = [];
      q.onError = (_k, err) => errors.push((err as Error).message);
      q.resume();
      q.add('a');
      await vi.advanceTimersByTimeAsync(0);
      expect(runs).toBe(1);
      // 20, 40, 80 ms: nothing a millisecond early, the retry exactly on time.
      for (const [delay, expected] of [
        [20, 2],
        [40, 3],
        [80, 4],
      ] as const) {
        await vi.advanceTimersByTimeAsync(delay - 1);
        expect(runs).toBe(expected - 1);
        await vi.advanceTimersByTimeAsync(1);
        expect(runs).toBe(expected);
      }
      await q.idle();
      expect(errors).toEqual(['boom', 'boom', 'boom']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('holds keys while paused (a standby replica) and runs them when resumed', async () => {
    const runs: string[] = [];
    const q = new WorkQueue(async (k) => {
      runs.push(k);
    });
    q.add('a');
    await new Promise((r) => setTimeout(r, 10));
    expect(runs).toEqual([]);
    expect(q.depth).toBe(1);
    q.resume();
    await q.idle();
    expect(runs).toEqual(['a']);
  });

  it('limits overall retries with a token bucket when many keys fail at once', async () => {
    const times = new Map<string, number[]>();
    const q = new WorkQueue(
      async (k) => {
        const t = times.get(k) ?? [];
        t.push(performance.now());
        times.set(k, t);
        if (t.length < 2) throw new Error('fail once');
      },
      { baseDelayMs: 1, ratePerSecond: 100, burst: 5, concurrency: 20 },
    );
    q.resume();
    const started = performance.now();
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    await q.idle();
    // 5 retries from the burst at once, the other 15 at 100 per second: the last ~150 ms later.
    const lastRetry = Math.max(...[...times.values()].map((t) => t[1]!));
    expect(lastRetry - started).toBeGreaterThanOrEqual(120);
  });
});
