/**
 * Budgets and rate limits count in fixed windows (a Minute one is the wall clock's minute): a test
 * that fills one and expects a refusal must not straddle two, or the budget resets halfway and the
 * refusal never comes. Waits for the next window when less than `neededMs` of this one is left.
 */
export async function roomInWindow(windowMs: number, neededMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < neededMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

export const MINUTE_MS = 60_000;
