import { ConfigError, DataFormatError, FULL_KEYPOINT_SET, IMAGE_COLUMN, IMAGE_PIXELS, toNormalized } from '@keypoints/core';
import type { KeypointSet } from '@keypoints/core';
import type { Dataset, KeypointTable } from './dataset.js';

/** Options of {@link toDataset}. */
export interface ToDatasetOptions {
  /**
   * Drop rows missing any keypoint of the set (Nouri 2014 `load()`: `df.dropna()`). Default `true`.
   * With `false` every row is kept and missing values are masked (`mask` 0, `targets` 0).
   */
  readonly dropIncomplete?: boolean;
}

/** `v / 255` for every byte value, so the conversion is one table lookup per pixel. */
const INTENSITY = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/**
 * Turn a Kaggle table (pixels) into model-ready data for one keypoint set: Nouri 2014's `load(cols)`.
 *
 * - `images`: `[N, 96, 96, 1]` float32 in [0, 1] (`pixel / 255`), NHWC.
 * - `targets`: `[N, K]` float32 normalized `(px − 48) / 48`, columns in the order of
 *   `keypointSet.columns` (`K = keypointSet.columns.length`); 0 where missing.
 * - `mask`: `[N, K]` float32, 1 where the keypoint is present, 0 where missing.
 * - `identities`: copied from the table when it has them; `sourceRows`: the table row of each sample.
 *
 * @param table a table from `readKaggleCsv`, with images.
 * @param keypointSet which keypoint columns become targets; default {@link FULL_KEYPOINT_SET} (all 30).
 * @param options `dropIncomplete` (default `true`): drop rows missing any keypoint of the set; with
 *   `false`, keep them and mask the missing values.
 * @returns a new {@link Dataset}; it shares no memory with the table.
 * @throws {DataFormatError} when the table has no images (no `Image` column), or when `dropIncomplete`
 *   leaves no row.
 * @throws {ConfigError} when the table lacks a column of the keypoint set (the message lists its columns).
 *
 * @example
 * ```ts
 * const table = await readKaggleCsv('downloads/training.zip');
 * const full = toDataset(table); // 2140 complete rows (Nouri's net1 data)
 * const eyes = toDataset(table, SPECIALIST_KEYPOINT_SETS[0]); // 7033 rows with both eye centres
 * ```
 */
export function toDataset(
  table: KeypointTable,
  keypointSet: KeypointSet = FULL_KEYPOINT_SET,
  options: ToDatasetOptions = {},
): Dataset {
  const { dropIncomplete = true } = options;
  const source = table.images;
  if (source === undefined) {
    throw new DataFormatError(
      { file: table.file, column: IMAGE_COLUMN },
      `the table has no images; expected an '${IMAGE_COLUMN}' column to build a dataset (read training.csv, not a keypoint-only table)`,
    );
  }
  const width = table.columns.length;
  const columnIndex = keypointSet.columns.map((c) => table.columns.indexOf(c));
  const absent = keypointSet.columns.filter((_, j) => columnIndex[j] < 0);
  if (absent.length > 0) {
    throw new ConfigError(
      `${table.file}: keypoint set '${keypointSet.name}' needs column${absent.length > 1 ? 's' : ''} ${absent
        .map((c) => `'${c}'`)
        .join(', ')} that the table lacks; its keypoint columns are: ${width > 0 ? table.columns.join(', ') : 'none'}`,
    );
  }
  const k = columnIndex.length;

  const rows: number[] = [];
  for (let r = 0; r < table.count; r++) {
    if (!dropIncomplete || columnIndex.every((c) => Number.isFinite(table.keypoints[r * width + c]))) rows.push(r);
  }
  if (rows.length === 0) {
    throw new DataFormatError(
      { file: table.file },
      `none of the ${table.count} rows has every keypoint of set '${keypointSet.name}'; expected at least one ` +
        'complete row (or pass dropIncomplete: false to mask missing keypoints)',
    );
  }

  const count = rows.length;
  const images = new Float32Array(count * IMAGE_PIXELS);
  const targets = new Float32Array(count * k);
  const mask = new Float32Array(count * k);
  const sourceRows = Int32Array.from(rows);
  for (let i = 0; i < count; i++) {
    const r = rows[i];
    const from = r * IMAGE_PIXELS;
    const to = i * IMAGE_PIXELS;
    for (let p = 0; p < IMAGE_PIXELS; p++) images[to + p] = INTENSITY[source[from + p]];
    for (let j = 0; j < k; j++) {
      const px = table.keypoints[r * width + columnIndex[j]];
      if (Number.isFinite(px)) {
        targets[i * k + j] = toNormalized(px);
        mask[i * k + j] = 1;
      }
    }
  }
  const identities = table.identities;
  return {
    count,
    keypointSet,
    images,
    targets,
    mask,
    ...(identities !== undefined ? { identities: rows.map((r) => identities[r]) } : {}),
    sourceRows,
  };
}
