/**
 * The longest wait one Node timer can hold (2^31-1 ms, about 24.8 days). `setTimeout` with a longer
 * one warns and fires after 1 ms instead, so a configured duration beyond it (the Gateway API's
 * format allows up to 99999h) turned "practically no limit" into "at once".
 */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** A configured duration as a timer can wait it: durations beyond LONGEST_TIMER_MS wait that long. */
export function timerMs(ms: number): number {
  return Math.min(ms, LONGEST_TIMER_MS);
}
