import type { KeypointSet } from '@keypoints/core';

/**
 * A Kaggle-format table as read from disk, in pixels.
 *
 * - `images`: `[count, 9216]` row-major 96×96 grayscale, uint8 0..255 (absent when the file has no
 *   `Image` column, e.g. the keypoint-only table).
 * - `keypoints`: `[count, columns.length]` float32 **pixels**; a missing value (empty field) is `NaN`.
 */
export interface KeypointTable {
  /** File the table was read from (for messages). */
  readonly file: string;
  /** Number of rows. */
  readonly count: number;
  /**
   * Keypoint columns present, in file order, or in the order of `readKaggleCsv`'s `columns` option when
   * given (a subset of `KAGGLE_COLUMNS`; empty for `test.csv`).
   */
  readonly columns: readonly string[];
  /** `[count, columns.length]` pixels, `NaN` where missing. */
  readonly keypoints: Float32Array;
  /** `[count, 9216]` uint8 0..255, or `undefined` when the file has no `Image` column. */
  readonly images?: Uint8Array;
  /** `Identity` column when present (landmark-converted sets): one subject per value. */
  readonly identities?: readonly string[];
  /** `ImageId` column when present (`test.csv`). */
  readonly imageIds?: readonly number[];
}

/**
 * Model-ready data for one keypoint set (Nouri 2014 `load()`: `X / 255`, `y → (y − 48) / 48`).
 *
 * - `images`: `[count, 96, 96, 1]` float32 in [0, 1], NHWC, row-major.
 * - `targets`: `[count, K]` float32 normalized `(px − 48) / 48`, `K = keypointSet.columns.length`;
 *   0 where the value is missing (see `mask`).
 * - `mask`: `[count, K]` float32, 1 where the target is present, 0 where missing.
 */
export interface Dataset {
  readonly count: number;
  readonly keypointSet: KeypointSet;
  readonly images: Float32Array;
  readonly targets: Float32Array;
  readonly mask: Float32Array;
  /** Per-row identity, when the source had one (for grouped splits). */
  readonly identities?: readonly string[];
  /** Row index of each sample in the source table (for tracing back). */
  readonly sourceRows: Int32Array;
}

/** One mini-batch: plain typed arrays (tensors are made by the trainer). */
export interface Batch {
  /** Number of samples in the batch (the last batch of an epoch may be short). */
  readonly size: number;
  /** `[size, 96, 96, 1]` float32 in [0, 1]. */
  readonly images: Float32Array;
  /** `[size, K]` float32 normalized. */
  readonly targets: Float32Array;
  /** `[size, K]` float32 0/1. */
  readonly mask: Float32Array;
}
