import type { BudgetLimit } from '../config/budgets.ts';

export interface WindowSpan {
  /** Start of the current window, epoch ms; part of the counter key. */
  start: number;
  /** When the window ends (the budget resets), epoch ms. */
  end: number;
}

const FIXED_MS = { Minute: 60_000, Hour: 3_600_000, Day: 86_400_000 } as const;

/** Fixed windows aligned to UTC; Month is the calendar month in UTC. */
export function windowAt(window: BudgetLimit['window'], now: number): WindowSpan {
  if (window === 'Month') {
    const d = new Date(now);
    const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    return { start, end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
  }
  const size = FIXED_MS[window];
  const start = Math.floor(now / size) * size;
  return { start, end: start + size };
}

/** OpenAI's duration style for x-ratelimit-reset-*: `6m0s`, `1.5s`, `2h3m4s`. */
export function resetDuration(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const sec = Number.isInteger(s) ? `${s}s` : `${s.toFixed(1)}s`;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${sec}`;
}
