/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** One measured rate: the median and the spread of the timed runs (images per second). */
export interface Rate {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: readonly number[];
}

/** Summarise per-run rates. */
export function rate(runs: readonly number[]): Rate {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: runs.map((r) => Number(r.toFixed(2))) };
}
