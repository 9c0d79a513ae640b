import { enableCompileCache } from 'node:module';

/**
 * Node's on-disk compile cache: the TypeScript modules are type-stripped and compiled once, not on
 * every start (the operator starts in 0.38 s instead of 0.61 s, and 25 MiB smaller: with the cache
 * warm the type stripper is never loaded). The directory is NODE_COMPILE_CACHE when set — the images
 * carry a cache built with them (images/build.sh) — else Node's default under the temp folder. It
 * never fails a start: a cache that cannot be read or written is skipped.
 */
enableCompileCache();
