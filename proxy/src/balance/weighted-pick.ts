/**
 * The one weighted choice of the proxy (routes' backendRefs, AI targets): an item with weight w is
 * picked with probability w / total; weight 0 is never picked. Undefined when nothing has weight.
 */
export function pickByWeight<T>(items: readonly T[], weightOf: (item: T) => number): T | undefined {
  let total = 0;
  for (const item of items) total += weightOf(item);
  if (total <= 0) return undefined;
  let r = Math.random() * total;
  for (const item of items) {
    const w = weightOf(item);
    if (w <= 0) continue;
    r -= w;
    if (r < 0) return item;
  }
  // Floating-point leftovers land on the last weighted item.
  return items.findLast((item) => weightOf(item) > 0);
}

/** `pickByWeight` over a fixed list, with the trivial cases decided once; `null` when none has weight. */
export function weightedPicker<T>(entries: { weight: number; item: T }[]): () => T | null {
  const weighted = entries.filter((e) => e.weight > 0);
  if (weighted.length === 0) return () => null;
  if (weighted.length === 1) {
    const only = weighted[0]!.item;
    return () => only;
  }
  return () => pickByWeight(weighted, (e) => e.weight)!.item;
}
