/** A weighted random choice, precomputed; `null` when no entry has weight. */
export function weightedPicker<T>(entries: { weight: number; item: T }[]): () => T | null {
  const weighted = entries.filter((e) => e.weight > 0);
  if (weighted.length === 0) return () => null;
  if (weighted.length === 1) {
    const only = weighted[0]!.item;
    return () => only;
  }
  const cumulative: number[] = [];
  let total = 0;
  for (const e of weighted) {
    total += e.weight;
    cumulative.push(total);
  }
  return () => {
    const r = Math.random() * total;
    for (let i = 0; i < cumulative.length; i++) if (r < cumulative[i]!) return weighted[i]!.item;
    return weighted[weighted.length - 1]!.item;
  };
}
