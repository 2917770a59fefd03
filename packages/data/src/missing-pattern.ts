import { ConfigError, KAGGLE_COLUMNS, SeededRandom } from '@keypoints/core';
import type { Dataset, KeypointTable } from './dataset.js';

/** Width of a missing-value pattern row: one present flag per Kaggle column (30). */
const PATTERN_WIDTH = KAGGLE_COLUMNS.length;

/** Options of {@link applyMissingPattern}. */
export interface ApplyMissingPatternOptions {
  /** Seed of the pattern draw (any integer). Same dataset, patterns and seed → same result. */
  readonly seed: number;
}

/**
 * The missing-value pattern of a Kaggle table: which keypoint values each row has.
 *
 * Kaggle's `training.csv` is mostly incomplete — of its 7049 rows only 2140 have all 15 keypoints and
 * 4755 have just 4 (eye centres, nose tip, bottom lip) — which is why Nouri 2014 trains specialists.
 * The pattern of the real table (`shared/data/kaggle/training_keypoints_only.csv`, read with
 * `readKaggleCsv(file, { requireImage: false })`) can be transplanted onto a complete set with
 * {@link applyMissingPattern}.
 *
 * @param table a table from `readKaggleCsv` (images not needed) that has all 30 Kaggle columns, in
 *   any order.
 * @returns `[table.count, 30]` uint8, row-major, columns in {@link KAGGLE_COLUMNS} order: 1 where the
 *   value is present (finite), 0 where it is missing (`NaN`).
 * @throws {ConfigError} when the table lacks a Kaggle column (the message names them).
 *
 * @example
 * ```ts
 * const kaggle = await readKaggleCsv('../shared/data/kaggle/training_keypoints_only.csv', { requireImage: false });
 * const patterns = missingPatternOf(kaggle); // 7049 × 30 flags
 * ```
 */
export function missingPatternOf(table: KeypointTable): Uint8Array {
  const width = table.columns.length;
  const index = KAGGLE_COLUMNS.map((c) => table.columns.indexOf(c));
  const absent = KAGGLE_COLUMNS.filter((_, j) => index[j] < 0);
  if (absent.length > 0) {
    throw new ConfigError(
      `missingPatternOf: ${table.file} lacks column${absent.length > 1 ? 's' : ''} ${absent.join(', ')}; ` +
        `a missing-value pattern needs all ${PATTERN_WIDTH} Kaggle keypoint columns`,
    );
  }
  const patterns = new Uint8Array(table.count * PATTERN_WIDTH);
  for (let r = 0; r < table.count; r++) {
    for (let j = 0; j < PATTERN_WIDTH; j++) {
      if (Number.isFinite(table.keypoints[r * width + index[j]])) patterns[r * PATTERN_WIDTH + j] = 1;
    }
  }
  return patterns;
}

/**
 * Give a complete dataset Kaggle's missing values: each row takes the missing-value pattern of one
 * seeded-random row of `patterns` (usually {@link missingPatternOf} the real Kaggle table), so a set
 * that has every keypoint on every face (e.g. the converted YouTube-Faces set) can compare
 * specialists, `dropna()` (`restrictToKeypointSet` / `dropIncomplete`) and a masked loss the way
 * Kaggle's data forces them: 4755 of its 7049 rows have only 4 of the 15 keypoints.
 *
 * Pattern rows are drawn without replacement, in seeded-random order (a new permutation of the
 * pattern rows each time they are used up), so per-column presence fractions follow the pattern
 * table closely. A value missing in the pattern becomes missing in the result: `mask` 0 and
 * `targets` 0, the convention of `toDataset` with `dropIncomplete: false`. A value already missing in
 * `dataset` stays missing. No row is dropped; a row can end up with no value of the dataset's set.
 *
 * @param dataset any dataset; its `keypointSet.columns` (Kaggle column names, any order, any subset)
 *   select the pattern columns.
 * @param patterns `[P, 30]` uint8 present flags (0 = missing, anything else = present), columns in
 *   {@link KAGGLE_COLUMNS} order, `P ≥ 1`.
 * @param options `seed` (required integer).
 * @returns a new {@link Dataset} with the same `count`, `keypointSet`, `identities` and `sourceRows`,
 *   new `targets` and `mask` (`[count, K]`), and the **same** `images` array (shared, not copied).
 * @throws {ConfigError} when `patterns` is empty or its length is not a multiple of 30, when `seed`
 *   is not an integer, or when a column of the dataset's keypoint set is not a Kaggle column.
 *
 * @example
 * ```ts
 * const youtube = toDataset(await readKaggleCsv('runs/data/youtube-faces/training.csv.gz'));
 * const kaggleLike = applyMissingPattern(youtube, missingPatternOf(kaggle), { seed: 42 });
 * const eyes = restrictToKeypointSet(kaggleLike, SPECIALIST_KEYPOINT_SETS[0]); // rows with both eye centres
 * ```
 */
export function applyMissingPattern(dataset: Dataset, patterns: Uint8Array, options: ApplyMissingPatternOptions): Dataset {
  const { seed } = options;
  if (patterns.length === 0 || patterns.length % PATTERN_WIDTH !== 0) {
    throw new ConfigError(
      `applyMissingPattern: patterns must be [rows, ${PATTERN_WIDTH}] present flags (one per Kaggle column); ` +
        `got ${patterns.length} values, ${patterns.length === 0 ? 'none' : `not a multiple of ${PATTERN_WIDTH}`}`,
    );
  }
  if (!Number.isInteger(seed)) throw new ConfigError(`applyMissingPattern: seed must be an integer, got ${String(seed)}`);
  const columns = dataset.keypointSet.columns;
  const index = columns.map((c) => KAGGLE_COLUMNS.indexOf(c));
  const unknown = columns.filter((_, j) => index[j] < 0);
  if (unknown.length > 0) {
    throw new ConfigError(
      `applyMissingPattern: keypoint set '${dataset.keypointSet.name}' has column${unknown.length > 1 ? 's' : ''} ` +
        `${unknown.join(', ')} that ${unknown.length > 1 ? 'are not Kaggle columns' : 'is not a Kaggle column'}`,
    );
  }
  const patternRows = patterns.length / PATTERN_WIDTH;
  const k = columns.length;
  const rng = new SeededRandom(seed);
  const targets = new Float32Array(dataset.count * k);
  const mask = new Float32Array(dataset.count * k);
  let order: number[] = [];
  for (let r = 0; r < dataset.count; r++) {
    const position = r % patternRows;
    if (position === 0) order = rng.permutation(patternRows);
    const p = order[position] * PATTERN_WIDTH;
    for (let j = 0; j < k; j++) {
      const at = r * k + j;
      if (dataset.mask[at] > 0 && patterns[p + index[j]] !== 0) {
        mask[at] = dataset.mask[at];
        targets[at] = dataset.targets[at];
      }
    }
  }
  return { ...dataset, targets, mask };
}
