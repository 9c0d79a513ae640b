const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses a Gateway API Duration (`1h30m`, `500ms`, `10s`) into milliseconds. */
export function durationMs(value: string): number {
  let total = 0;
  for (const m of value.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}

const QUANTITY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity of bytes (`1024`, `64Ki`, `4k`), as a number (at most MAX_SAFE_INTEGER). */
export function quantityBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const [, digits, unit] = /^([0-9]+)(.*)$/.exec(value) ?? [];
  return Math.min(Number.MAX_SAFE_INTEGER, Number(digits ?? 0) * (QUANTITY_UNITS[unit ?? ''] ?? 1));
}
