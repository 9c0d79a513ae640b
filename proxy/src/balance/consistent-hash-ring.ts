/**
 * A ring hash (Karger et al., as Envoy's RING_HASH): every endpoint owns many points on a 32-bit
 * circle and a key goes to the first point at or after its hash. Removing one endpoint moves only the
 * keys it owned; every other key stays where it was.
 */
export class HashRing<T> {
  readonly #points: Uint32Array;
  readonly #owners: T[];

  /**
   * `idOf` must be stable across configs (an endpoint's origin), so rings built later agree. Every
   * item owns the same number of points however many items there are: a ring sized by the item
   * count (as Envoy's minimum ring size does) would move other items' keys when one leaves.
   */
  constructor(items: readonly T[], idOf: (item: T) => string) {
    const points: { hash: number; owner: T }[] = [];
    for (const item of items)
      for (let i = 0; i < POINTS_PER_ITEM; i++)
        points.push({ hash: hash32(`${idOf(item)}_${i}`), owner: item });
    points.sort((a, b) => a.hash - b.hash);
    this.#points = Uint32Array.from(points, (p) => p.hash);
    this.#owners = points.map((p) => p.owner);
  }

  /**
   * The owner of `key`, or the next owner along the ring that `accept` takes (an endpoint in
   * service); the key's own owner when none is accepted.
   */
  lookup(key: string, accept: (item: T) => boolean): T | undefined {
    const n = this.#points.length;
    if (n === 0) return undefined;
    const h = hash32(key);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#points[mid]! < h) lo = mid + 1;
      else hi = mid;
    }
    const first = this.#owners[lo % n]!;
    for (let i = 0; i < n; i++) {
      const owner = this.#owners[(lo + i) % n]!;
      if (accept(owner)) return owner;
    }
    return first;
  }
}

/** Enough points that five endpoints each own 20% ± a few points of the keys. */
const POINTS_PER_ITEM = 256;

/** FNV-1a over UTF-16 code units with murmur3's finaliser, so nearby strings land far apart. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
