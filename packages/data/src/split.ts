import { ConfigError, IMAGE_PIXELS, SeededRandom } from '@keypoints/core';
import type { Dataset } from './dataset.js';

/** Options of {@link holdoutSplit}. */
export interface HoldoutSplitOptions {
  /** Share of the rows held out for validation, in (0, 1). Default `0.2` (Nouri 2014's 20 % holdout). */
  readonly fraction?: number;
  /** Seed of the shuffle (any integer). Default `42`. */
  readonly seed?: number;
  /**
   * Keep whole groups on one side: `'identity'` puts every row of a subject either in training or in
   * validation (needs `dataset.identities`). Default: split rows independently.
   */
  readonly groupBy?: 'identity';
}

/** The two sides of a {@link holdoutSplit}. */
export interface HoldoutSplit {
  /** Rows to train on (≈ `1 − fraction` of the rows), in shuffled order. */
  readonly train: Dataset;
  /** Held-out rows (≈ `fraction` of the rows), in shuffled order. */
  readonly validation: Dataset;
}

/**
 * Seeded holdout split of a dataset into training and validation sets.
 *
 * The rows are shuffled with `SeededRandom(seed)`; the first `round(count × fraction)` rows of that
 * order are held out for validation (nolearn's `TrainSplit(eval_size=0.2)` on Nouri's shuffled data).
 * With `groupBy: 'identity'` the distinct identities are shuffled instead and whole identities are
 * held out, one after another, while that brings the validation size closer to `count × fraction`;
 * no identity is on both sides, and each side keeps at least one identity.
 *
 * Both results are copies (images `[n, 96, 96, 1]` float32 in [0, 1], targets `[n, K]` normalized
 * `(px − 48) / 48`, mask `[n, K]`), rows in shuffled order; `sourceRows` still point at the source table.
 * The same dataset, fraction and seed always give the same split.
 *
 * @param dataset the dataset to split (at least 2 rows).
 * @param options `fraction` (default 0.2), `seed` (default 42), `groupBy` (default: none).
 * @throws {ConfigError} when `fraction` is not in (0, 1), `seed` is not an integer, `groupBy` is not
 *   `'identity'`, the dataset is too small for both sides to get a row, or `groupBy: 'identity'` is
 *   asked of a dataset without identities or with fewer than 2 identities.
 *
 * @example
 * ```ts
 * const { train, validation } = holdoutSplit(toDataset(table)); // 1712 / 428 of the 2140 complete rows
 * const bySubject = holdoutSplit(dataset, { groupBy: 'identity', seed: 7 });
 * ```
 */
export function holdoutSplit(dataset: Dataset, options: HoldoutSplitOptions = {}): HoldoutSplit {
  const { fraction = 0.2, seed = 42, groupBy } = options;
  if (!(typeof fraction === 'number' && fraction > 0 && fraction < 1)) {
    throw new ConfigError(`holdoutSplit: fraction must be a number in (0, 1), got ${String(fraction)}`);
  }
  if (!Number.isInteger(seed)) throw new ConfigError(`holdoutSplit: seed must be an integer, got ${String(seed)}`);
  if (groupBy !== undefined && groupBy !== 'identity') {
    throw new ConfigError(`holdoutSplit: groupBy must be 'identity' or absent, got '${String(groupBy)}'`);
  }
  const n = dataset.count;
  const rng = new SeededRandom(seed);
  const target = Math.round(n * fraction);
  let inValidation: (row: number, position: number) => boolean;

  if (groupBy === 'identity') {
    const identities = dataset.identities;
    if (identities === undefined) {
      throw new ConfigError(
        "holdoutSplit: groupBy 'identity' needs a dataset with identities (a table with an Identity column); this one has none",
      );
    }
    const sizes = new Map<string, number>();
    for (const id of identities) sizes.set(id, (sizes.get(id) ?? 0) + 1);
    if (sizes.size < 2) {
      throw new ConfigError(`holdoutSplit: groupBy 'identity' needs at least 2 identities, the dataset has ${sizes.size}`);
    }
    const order = rng.shuffle([...sizes.keys()]);
    const held = new Set<string>();
    let size = 0;
    for (let i = 0; i < order.length - 1; i++) {
      const s = sizes.get(order[i]) as number;
      if (held.size === 0 || Math.abs(size + s - target) < Math.abs(size - target)) {
        held.add(order[i]);
        size += s;
      }
      if (size >= target) break;
    }
    inValidation = (row) => held.has(identities[row]);
  } else {
    if (target < 1 || target > n - 1) {
      throw new ConfigError(
        `holdoutSplit: a ${fraction} holdout of ${n} row${n === 1 ? '' : 's'} leaves one side empty; expected more rows or another fraction`,
      );
    }
    inValidation = (_row, position) => position < target;
  }

  const permutation = rng.permutation(n);
  const train: number[] = [];
  const validation: number[] = [];
  permutation.forEach((row, position) => (inValidation(row, position) ? validation : train).push(row));
  return { train: subsetDataset(dataset, train), validation: subsetDataset(dataset, validation) };
}

/**
 * A new dataset holding the given rows of `dataset`, in the given order (copies; repeats allowed).
 *
 * Shapes follow the source: images `[indices.length, 96, 96, 1]` float32 in [0, 1], targets and mask
 * `[indices.length, K]` (normalized `(px − 48) / 48`, 0/1); identities and `sourceRows` are carried over.
 *
 * @param dataset the source dataset.
 * @param indices row indices into `dataset` (0-based integers below `dataset.count`).
 * @throws {ConfigError} when an index is not an integer in `[0, dataset.count)`.
 *
 * @example
 * ```ts
 * const firstTen = subsetDataset(dataset, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
 * ```
 */
export function subsetDataset(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const count = indices.length;
  const k = dataset.keypointSet.columns.length;
  const images = new Float32Array(count * IMAGE_PIXELS);
  const targets = new Float32Array(count * k);
  const mask = new Float32Array(count * k);
  const sourceRows = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const r = indices[i];
    if (!(Number.isInteger(r) && r >= 0 && r < dataset.count)) {
      throw new ConfigError(
        `subsetDataset: index ${String(r)} (position ${i}) is not a row of the dataset; expected an integer in [0, ${dataset.count})`,
      );
    }
    images.set(dataset.images.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS), i * IMAGE_PIXELS);
    targets.set(dataset.targets.subarray(r * k, (r + 1) * k), i * k);
    mask.set(dataset.mask.subarray(r * k, (r + 1) * k), i * k);
    sourceRows[i] = dataset.sourceRows[r];
  }
  const identities = dataset.identities;
  return {
    count,
    keypointSet: dataset.keypointSet,
    images,
    targets,
    mask,
    ...(identities !== undefined ? { identities: Array.from({ length: count }, (_, i) => identities[indices[i]]) } : {}),
    sourceRows,
  };
}
