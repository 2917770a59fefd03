import { beforeAll, describe, expect, it } from 'vitest';
import { FULL_KEYPOINT_SET, IMAGE_PIXELS, SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import type { Dataset } from './dataset.js';
import { readKaggleCsv } from './kaggle-csv.reader.js';
import { completeRowCount, restrictToKeypointSet } from './keypoint-subset.js';
import { toDataset } from './load.js';
import { KEYPOINTS_ONLY_CSV, realKeypointsData } from './test-fixtures.js';

const real = realKeypointsData();

// Nouri 2014 (kfkd.py fit_specialists): each specialist drops only the rows missing one of its own
// columns. On the real Kaggle training table (7049 rows) that leaves these row counts, in the order of
// SPECIALIST_KEYPOINT_SETS; the full 30-column set keeps the 2140 complete rows (net1 … net8's data).
const EXPECTED: Record<string, number> = {
  eye_center: 7033,
  nose_tip: 7049,
  mouth_corners_top_lip: 2260,
  mouth_bottom_lip: 7016,
  eye_corners: 2247,
  eyebrows: 2190,
};

let all: Dataset;
beforeAll(async () => {
  if (!real.available) return;
  const table = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false });
  expect(table.count).toBe(7049);
  // The table has no pixels; blank images let it go through the real pipeline (toDataset, then restrict).
  all = toDataset({ ...table, images: new Uint8Array(table.count * IMAGE_PIXELS) }, FULL_KEYPOINT_SET, {
    dropIncomplete: false,
  });
});

describe.skipIf(!real.available)('specialist row counts on the real Kaggle table', () => {
  it('keeps every row when nothing is dropped', () => {
    expect(all.count).toBe(7049);
  });

  it('counts 7033, 7049, 2260, 7016, 2247, 2190 rows with all of each group’s columns', () => {
    expect(SPECIALIST_KEYPOINT_SETS.map((s) => s.name)).toEqual(Object.keys(EXPECTED));
    expect(SPECIALIST_KEYPOINT_SETS.map((s) => completeRowCount(all, s))).toEqual([7033, 7049, 2260, 7016, 2247, 2190]);
  });

  it('counts 2140 complete rows for the full set', () => {
    expect(completeRowCount(all, FULL_KEYPOINT_SET)).toBe(2140);
  });

  it.each(SPECIALIST_KEYPOINT_SETS.map((s) => [s.name, s] as const))(
    'restrictToKeypointSet(%s) keeps exactly those rows, each with its whole mask',
    (name, set) => {
      const restricted = restrictToKeypointSet(all, set);
      expect(restricted.count).toBe(EXPECTED[name]);
      expect(restricted.keypointSet).toBe(set);
      expect(restricted.mask.length).toBe(restricted.count * set.columns.length);
      expect(restricted.mask.every((m) => m === 1)).toBe(true);
    },
  );

  it('restrictToKeypointSet(full) keeps the 2140 complete rows', () => {
    expect(restrictToKeypointSet(all, FULL_KEYPOINT_SET).count).toBe(2140);
  });
});
