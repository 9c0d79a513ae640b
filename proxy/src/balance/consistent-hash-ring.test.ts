import { describe, expect, it } from 'vitest';
import { HashRing } from './consistent-hash-ring.ts';

const endpoints = [
  'http://10.0.0.1:80',
  'http://10.0.0.2:80',
  'http://10.0.0.3:80',
  'http://10.0.0.4:80',
  'http://10.0.0.5:80',
];
const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`);
const any = () => true;

describe('HashRing', () => {
  it('keeps every key of the remaining endpoints in place when one of five is removed', () => {
    const before = new HashRing(endpoints, (e) => e);
    const after = new HashRing(
      endpoints.filter((e) => e !== endpoints[2]),
      (e) => e,
    );
    let kept = 0;
    let movable = 0;
    for (const key of keys) {
      const owner = before.lookup(key, any)!;
      if (owner === endpoints[2]) continue;
      movable++;
      if (after.lookup(key, any) === owner) kept++;
    }
    // The bar is 95%; a ring moves only the removed endpoint's keys, so it is all of them.
    expect(kept / movable).toBe(1);
  });

  it('spreads keys roughly evenly (each of five endpoints owns 12–28% of them)', () => {
    const ring = new HashRing(endpoints, (e) => e);
    const owned = new Map<string, number>();
    for (const key of keys) {
      const owner = ring.lookup(key, any)!;
      owned.set(owner, (owned.get(owner) ?? 0) + 1);
    }
    for (const e of endpoints) {
      const share = (owned.get(e) ?? 0) / keys.length;
      expect(share, e).toBeGreaterThan(0.12);
      expect(share, e).toBeLessThan(0.28);
    }
  });

  it('sends a key whose endpoint is out of service to the next one, and back when it returns', () => {
    const ring = new HashRing(endpoints, (e) => e);
    const key = keys.find((k) => ring.lookup(k, any) === endpoints[0])!;
    const elsewhere = ring.lookup(key, (e) => e !== endpoints[0]);
    expect(elsewhere).not.toBe(endpoints[0]);
    expect(ring.lookup(key, any)).toBe(endpoints[0]);
    // Nothing accepted: the key's own endpoint (panic, as with no health checks).
    expect(ring.lookup(key, () => false)).toBe(endpoints[0]);
  });

  it('is empty-safe', () => {
    expect(new HashRing<string>([], (e) => e).lookup('k', any)).toBeUndefined();
  });
});
