import { hash, timingSafeEqual } from 'node:crypto';

/**
 * API keys are held and looked up only as SHA-256 digests: a key never sits in memory as a map key, and
 * a lookup by digest followed by a constant-time comparison leaks nothing about near misses.
 */
export function keyDigest(key: string): Buffer {
  return hash('sha256', key, 'buffer');
}

/** A table of digests to what each key identifies. */
export class KeyTable<T> {
  readonly #entries = new Map<string, { digest: Buffer; value: T }>();

  /** Adds a key; a key already present keeps its first owner (so a key is never ambiguous). */
  add(key: string, value: T): void {
    const digest = keyDigest(key);
    const id = digest.toString('base64');
    if (!this.#entries.has(id)) this.#entries.set(id, { digest, value });
  }

  get size(): number {
    return this.#entries.size;
  }

  lookup(presented: string): T | undefined {
    const digest = keyDigest(presented);
    const entry = this.#entries.get(digest.toString('base64'));
    return entry && timingSafeEqual(entry.digest, digest) ? entry.value : undefined;
  }
}
