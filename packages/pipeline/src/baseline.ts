/**
 * The mean-shape baseline: predict, for every sample, the training-set mean of each keypoint
 * column (masked: missing values ignored). Returns the per-column means (normalized units).
 */
export function meanShape(targets: Float32Array, mask: Float32Array, k: number): Float32Array {
  const sum = new Float64Array(k);
  const cnt = new Float64Array(k);
  for (let i = 0; i < targets.length; i++) {
    const j = i % k;
    if (mask[i] > 0) {
      sum[j] += targets[i];
      cnt[j]++;
    }
  }
  return Float32Array.from(sum, (s, j) => (cnt[j] > 0 ? s / cnt[j] : 0));
}

/** MSE (normalized units, masked) of predicting `shape` for every row of `targets`. */
export function meanShapeMse(shape: Float32Array, targets: Float32Array, mask: Float32Array): number {
  const k = shape.length;
  let se = 0;
  let n = 0;
  for (let i = 0; i < targets.length; i++) {
    if (mask[i] > 0) {
      const d = targets[i] - shape[i % k];
      se += d * d;
      n++;
    }
  }
  return n > 0 ? se / n : NaN;
}

/** `37.5 % lower than the baseline` / `12.0 % higher than the baseline`. */
export function versusBaseline(improvement: number): string {
  return `${Math.abs(100 * improvement).toFixed(1)} % ${improvement >= 0 ? 'lower' : 'higher'} than the baseline`;
}
