import { describe, expect, it } from 'vitest';
import { KAGGLE_COLUMNS } from '@keypoints/core';
import type { KeypointTable } from './dataset.js';
import { keypointsOutsideFrame } from './frame-check.js';
import { readKaggleCsv } from './kaggle-csv.reader.js';
import { KEYPOINTS_ONLY_CSV, realKeypointsData } from './test-fixtures.js';

const real = realKeypointsData();

describe.skipIf(!real.available)('keypointsOutsideFrame', () => {
  it("finds none in Kaggle's real training table (7049 faces, every present value in [0, 96])", async () => {
    const table = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false });
    expect(table.count).toBe(7049);
    expect(keypointsOutsideFrame(table)).toEqual({ count: 0 });
  });

  it('counts values below 0 or above 96 px, ignores missing ones, and names the first in file order', async () => {
    const real = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false, maxRows: 3 });
    const keypoints = Float32Array.from(real.keypoints);
    const width = real.columns.length;
    keypoints[1 * width + 5] = -500; // row 1, sixth column
    keypoints[2 * width + 0] = 5000;
    keypoints[2 * width + 1] = Number.NaN; // missing: not counted
    keypoints[0 * width + 2] = 96; // on the edge: inside
    const table: KeypointTable = { ...real, keypoints };
    expect(keypointsOutsideFrame(table)).toEqual({ count: 2, first: { row: 1, column: KAGGLE_COLUMNS[5], value: -500 } });
  });
});
