import { isIP } from 'node:net';

/** `address/prefix` with a prefix no longer than the address family allows (`10.0.1.0/24`, `::1/128`). */
export function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash <= 0) return false;
  const family = isIP(value.slice(0, slash));
  const bits = value.slice(slash + 1);
  return family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}
