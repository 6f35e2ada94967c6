// Small statistics for benchmark results: medians over repetitions and latency percentiles.

/** Median of the finite numbers in `values`; undefined when there are none. */
export function median(values: readonly (number | null | undefined)[]): number | undefined {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an ascending array; undefined when empty. */
export function percentile(sortedAscending: ArrayLike<number>, p: number): number | undefined {
  const n = sortedAscending.length;
  if (n === 0) return undefined;
  const rank = Math.ceil((p / 100) * n);
  return sortedAscending[Math.min(n - 1, Math.max(0, rank - 1))];
}

/** a ÷ b when both are positive finite numbers; undefined otherwise (a ratio against nothing means nothing). */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || a <= 0 || b <= 0) return undefined;
  return a / b;
}
