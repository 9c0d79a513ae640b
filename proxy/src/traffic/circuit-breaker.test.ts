import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BreakerGate } from './circuit-breaker.ts';
import { type LocalCount, WindowTable } from './window-table.ts';

describe('BreakerGate', () => {
  it('never runs more than maxConnections nor holds more than the thresholds, whatever the order of events', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxConnections: fc.integer({ min: 1, max: 4 }),
          maxPendingRequests: fc.integer({ min: 0, max: 4 }),
          maxParallelRequests: fc.integer({ min: 1, max: 8 }),
        }),
        fc.array(fc.constantFrom('enter', 'finish', 'abandon'), { maxLength: 60 }),
        async (limits, events) => {
          const gate = new BreakerGate(limits);
          const running: (() => void)[] = [];
          const waiting: { abandon: () => void; outcome: Promise<(() => void) | undefined> }[] = [];
          for (const event of events) {
            if (event === 'enter') {
              let abandon!: () => void;
              const abandoned = new Promise<void>((r) => {
                abandon = r;
              });
              const outcome = Promise.resolve(gate.enter(() => abandoned));
              waiting.push({ abandon, outcome });
            } else if (event === 'finish') running.shift()?.();
            else waiting.shift()?.abandon();
            // Let grants and abandonments settle, then collect who got in.
            await new Promise((r) => setImmediate(r));
            for (let i = waiting.length - 1; i >= 0; i--) {
              const w = waiting[i]!;
              const got = await Promise.race([w.outcome, Promise.resolve('pending' as const)]);
              if (got === 'pending') continue;
              waiting.splice(i, 1);
              if (got) running.push(got);
            }
            expect(gate.active).toBeLessThanOrEqual(limits.maxConnections);
            expect(running.length).toBe(gate.active);
            expect(gate.pending).toBeLessThanOrEqual(limits.maxPendingRequests);
            expect(gate.active + gate.pending).toBeLessThanOrEqual(
              Math.max(limits.maxParallelRequests, limits.maxConnections),
            );
          }
          // Everything finishes or leaves: the gate is empty again.
          for (const w of waiting) w.abandon();
          await new Promise((r) => setImmediate(r));
          for (const w of waiting) (await w.outcome)?.();
          for (const release of running) release();
          expect(gate.active).toBe(0);
          expect(gate.pending).toBe(0);
        },
      ),
      { numRuns: Number(process.env.SLUICE_FUZZ_RUNS ?? 200) },
    );
  });

  it('caps retries in flight and frees the slot once', () => {
    const gate = new BreakerGate({ maxParallelRetries: 1 });
    const first = gate.enterRetry();
    expect(first).toBeDefined();
    expect(gate.enterRetry()).toBeUndefined();
    first!();
    first!();
    const second = gate.enterRetry();
    expect(second).toBeDefined();
    expect(gate.enterRetry()).toBeUndefined();
  });
});

describe('WindowTable', () => {
  it('stays bounded when every request brings a new Distinct value', () => {
    const windows = new WindowTable<LocalCount>(() => ({ used: 0 }));
    const start = 60_000;
    for (let i = 0; i < 450_000; i++) windows.get(`l|route|0|x-user=${i}`, start, start + 60_000).used++;
    expect(windows.size).toBeLessThanOrEqual(200_000);
    // A key still held keeps counting in its window.
    expect(++windows.get('l|route|0|x-user=449999', start, start + 60_000).used).toBe(2);
  });

  it('starts a fresh count when the window moves on', () => {
    const windows = new WindowTable<LocalCount>(() => ({ used: 0 }));
    expect(++windows.get('k', 0, 1000).used).toBe(1);
    expect(++windows.get('k', 0, 1000).used).toBe(2);
    expect(++windows.get('k', 1000, 2000).used).toBe(1);
  });
});
