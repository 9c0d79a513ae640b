import type { Transform } from 'node:stream';
import { constants, createBrotliCompress, createGzip, createZstdCompress } from 'node:zlib';

/** Content codings Sluice compresses answers with (BackendTrafficPolicy `compression`). */
export type Coding = 'gzip' | 'br' | 'zstd';

/** What a route compresses with, compiled from its policy: codings in preference order, and the floor. */
export interface ResponseCompression {
  codings: readonly Coding[];
  /** Answers announcing fewer bytes than this stay as they are. */
  minLength: number;
}

/**
 * The coding to use for a client's Accept-Encoding: the one it weighs highest among those offered
 * (offer order breaks ties); undefined when it accepts none of them (q=0 refuses one, `*` stands for
 * any other). RFC 9110 §12.5.3.
 */
export function negotiate(accept: string | undefined, offered: readonly Coding[]): Coding | undefined {
  if (!accept) return undefined;
  const weights = new Map<string, number>();
  for (const part of accept.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k === 'q') q = Number(v);
    }
    if (Number.isFinite(q)) weights.set(name, q);
  }
  let best: Coding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const q = weights.get(coding) ?? weights.get('*') ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/** Text-like answers gain from compression; images, archives and already-compressed types do not. */
export function compressible(contentType: string | string[] | undefined): boolean {
  const type = (Array.isArray(contentType) ? contentType[0] : contentType)?.toLowerCase() ?? '';
  return (
    type.startsWith('text/') ||
    /^application\/([\w.+-]*\+)?(json|xml|javascript|ecmascript|x-ndjson|graphql|wasm)\b/.test(type) ||
    type.startsWith('image/svg+xml')
  );
}

/** A zlib compression stream: a Transform that can also push out what it holds (`flush`). */
export type Compressor = Transform & { flush(): void };

/** A compressor with Envoy Gateway's defaults (gzip level 6, brotli quality 3, zstd level 3). */
export function compressor(coding: Coding): Compressor {
  if (coding === 'gzip') return createGzip({ level: 6 });
  if (coding === 'br') return createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 3 } });
  return createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: 3 } });
}
