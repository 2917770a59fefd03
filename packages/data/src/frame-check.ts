import { IMAGE_SIZE } from '@keypoints/core';
import type { KeypointTable } from './dataset.js';

/** Keypoint values of a table that lie outside the 96×96 frame (see {@link keypointsOutsideFrame}). */
export interface OutsideFrame {
  /** How many present values are < 0 or > 96 px. */
  readonly count: number;
  /** The first of them in file order: 0-based data row, column name and value (pixels). */
  readonly first?: { readonly row: number; readonly column: string; readonly value: number };
}

/**
 * Find keypoint values outside the image: a coordinate in pixels below 0 or above 96 (the frame is
 * `[0, 96]`; Kaggle's training.csv has none). Such a value is more likely a unit or column mix-up
 * than a face; the CLI warns about them instead of refusing the file (a crop may cut a landmark).
 * Missing values (`NaN`) are not counted.
 *
 * @param table a table as read by `readKaggleCsv` (pixels).
 */
export function keypointsOutsideFrame(table: KeypointTable): OutsideFrame {
  const width = table.columns.length;
  let count = 0;
  let first: OutsideFrame['first'];
  for (let i = 0; i < table.keypoints.length; i++) {
    const v = table.keypoints[i];
    if (v < 0 || v > IMAGE_SIZE) {
      count++;
      first ??= { row: Math.floor(i / width), column: table.columns[i % width], value: v };
    }
  }
  return first ? { count, first } : { count };
}
