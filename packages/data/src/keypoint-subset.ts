import { ConfigError, DataFormatError, type KeypointSet } from '@keypoints/core';
import type { Dataset } from './dataset.js';
import { subsetDataset } from './split.js';

/** Options of {@link restrictToKeypointSet}. */
export interface RestrictOptions {
  /**
   * Drop the rows missing any column of the new set (a specialist's `dropna()` on its own columns,
   * Nouri 2014 kfkd.py `fit_specialists`). Default `true`; with `false` rows stay and missing values
   * stay masked.
   */
  readonly dropIncomplete?: boolean;
}

/**
 * Narrow a dataset to a keypoint set whose columns are a subset of the dataset's (e.g. the full
 * 30-column set to a specialist's 4 columns): `targets`/`mask` become `[count', K']` with the new
 * set's column order, and (by default) only the rows that have every column of the new set are
 * kept. Images are shared (not copied) when every row is kept.
 *
 * Use it after the split, so the full model and every specialist share one validation set.
 *
 * @param dataset a dataset of a wider keypoint set (usually {@link FULL_KEYPOINT_SET}, built with
 *   `dropIncomplete: false` so rows missing other keypoints survive).
 * @param keypointSet the narrower set.
 * @throws {ConfigError} when a column of `keypointSet` is not in the dataset's set.
 * @throws {DataFormatError} when `dropIncomplete` leaves no row.
 *
 * @example
 * ```ts
 * const all = toDataset(table, FULL_KEYPOINT_SET, { dropIncomplete: false });
 * const eyes = restrictToKeypointSet(all, SPECIALIST_KEYPOINT_SETS[0]); // rows with both eye centres
 * ```
 */
export function restrictToKeypointSet(dataset: Dataset, keypointSet: KeypointSet, options: RestrictOptions = {}): Dataset {
  const { dropIncomplete = true } = options;
  const index = columnIndex(dataset, keypointSet, 'restrictToKeypointSet');
  const width = dataset.keypointSet.columns.length;
  let source = dataset;
  if (dropIncomplete) {
    const keep = completeRows(dataset, index);
    if (keep.length === 0) {
      throw new DataFormatError(
        { file: `dataset '${dataset.keypointSet.name}'` },
        `none of the ${dataset.count} rows has every keypoint of set '${keypointSet.name}'`,
      );
    }
    if (keep.length < dataset.count) source = subsetDataset(dataset, keep);
  }
  const k = index.length;
  const targets = new Float32Array(source.count * k);
  const mask = new Float32Array(source.count * k);
  for (let r = 0; r < source.count; r++) {
    for (let j = 0; j < k; j++) {
      targets[r * k + j] = source.targets[r * width + index[j]];
      mask[r * k + j] = source.mask[r * width + index[j]];
    }
  }
  return { ...source, keypointSet, targets, mask };
}

/**
 * Number of rows of `dataset` that have every column of each set (Nouri 2014: each specialist
 * drops only the rows missing its own columns).
 *
 * @throws {ConfigError} when a set has a column the dataset lacks.
 */
export function completeRowCount(dataset: Dataset, keypointSet: KeypointSet): number {
  return completeRows(dataset, columnIndex(dataset, keypointSet, 'completeRowCount')).length;
}

/** Index of each column of `keypointSet` in the dataset's columns; a ConfigError naming `caller` when one is absent. */
function columnIndex(dataset: Dataset, keypointSet: KeypointSet, caller: string): number[] {
  const from = dataset.keypointSet.columns;
  const index = keypointSet.columns.map((c) => from.indexOf(c));
  const absent = keypointSet.columns.filter((_, j) => index[j] < 0);
  if (absent.length > 0) {
    throw new ConfigError(
      `${caller}: set '${keypointSet.name}' needs ${absent.join(', ')}, which set '${dataset.keypointSet.name}' lacks (its columns: ${from.join(', ')})`,
    );
  }
  return index;
}

/** The rows of `dataset` whose mask is set at every column of `index`. */
function completeRows(dataset: Dataset, index: readonly number[]): number[] {
  const width = dataset.keypointSet.columns.length;
  const rows: number[] = [];
  for (let r = 0; r < dataset.count; r++) if (index.every((c) => dataset.mask[r * width + c] > 0)) rows.push(r);
  return rows;
}
