import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataFormatError,
  FULL_KEYPOINT_SET,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
  SPECIALIST_KEYPOINT_SETS,
  keypointSet,
} from '@keypoints/core';
import type { KeypointTable } from './dataset.js';
import { readKaggleCsv } from './kaggle-csv.reader.js';
import { toDataset } from './load.js';
import { KEYPOINTS_ONLY_CSV, fixturePixel, realKeypointsData, trainingCsvText } from './test-fixtures.js';

const real = realKeypointsData();

// Real rows: 0 and 1 complete, 210 misses 2 fields, 2284 misses 22 (only eye centres, nose, bottom lip).
const ROWS = [0, 210, 1, 2284];

let dir: string;
let table: KeypointTable;
beforeAll(async () => {
  if (!real.available) return;
  dir = mkdtempSync(join(tmpdir(), 'kaggle-load-'));
  const path = join(dir, 'training.csv');
  writeFileSync(path, trainingCsvText({ rows: ROWS, identities: ['a', 'b', 'c', 'd'] }));
  table = await readKaggleCsv(path);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!real.available)('toDataset', () => {
  it('keeps complete rows only by default, scaling images to [0, 1] and targets to (px − 48) / 48', () => {
    const ds = toDataset(table);
    expect(ds.count).toBe(2);
    expect(ds.keypointSet).toBe(FULL_KEYPOINT_SET);
    expect(Array.from(ds.sourceRows)).toEqual([0, 2]);
    expect(ds.identities).toEqual(['a', 'c']);
    expect(ds.images.length).toBe(2 * IMAGE_PIXELS);
    expect(ds.targets.length).toBe(2 * 30);
    expect(ds.mask.every((m) => m === 1)).toBe(true);
    for (const p of [0, 17, IMAGE_PIXELS - 1]) {
      expect(ds.images[IMAGE_PIXELS + p]).toBe(Math.fround(fixturePixel(2, p) / 255));
    }
    // Row 0 of the real table: left_eye_center_x = 66.0335639098 px.
    expect(ds.targets[0]).toBeCloseTo((66.0335639098 - 48) / 48, 6);
    for (const v of ds.images) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('keeps every row with dropIncomplete: false, masking missing keypoints (target 0)', () => {
    const ds = toDataset(table, FULL_KEYPOINT_SET, { dropIncomplete: false });
    expect(ds.count).toBe(4);
    expect(Array.from(ds.sourceRows)).toEqual([0, 1, 2, 3]);
    for (let r = 0; r < 4; r++) {
      for (let j = 0; j < 30; j++) {
        const px = table.keypoints[r * 30 + j];
        if (Number.isNaN(px)) {
          expect(ds.mask[r * 30 + j]).toBe(0);
          expect(ds.targets[r * 30 + j]).toBe(0);
        } else {
          expect(ds.mask[r * 30 + j]).toBe(1);
          expect(ds.targets[r * 30 + j]).toBe(Math.fround((px - 48) / 48));
        }
      }
    }
    const present = (r: number) => ds.mask.subarray(r * 30, (r + 1) * 30).reduce((a, b) => a + b, 0);
    expect([0, 1, 2, 3].map(present)).toEqual([30, 28, 30, 8]);
  });

  it('selects the columns of a specialist keypoint set, in its order', () => {
    const mouth = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'mouth_bottom_lip');
    const ds = toDataset(table, mouth);
    expect(ds.count).toBe(3); // real row 210 lacks the bottom lip
    expect(Array.from(ds.sourceRows)).toEqual([0, 2, 3]);
    expect(ds.targets.length).toBe(3 * 2);
    const x = KAGGLE_COLUMNS.indexOf('mouth_center_bottom_lip_x');
    expect(ds.targets[2 * 2]).toBe(Math.fround((table.keypoints[3 * 30 + x] - 48) / 48));
    const swapped = keypointSet('eyes_reversed', ['right_eye_center', 'left_eye_center']);
    const eyes = toDataset(table, swapped);
    expect(eyes.targets[0]).toBe(Math.fround((table.keypoints[2] - 48) / 48)); // right_eye_center_x first
  });

  it('rejects a table without images', async () => {
    const keypointsOnly = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false, maxRows: 5 });
    expect(() => toDataset(keypointsOnly)).toThrow(DataFormatError);
    expect(() => toDataset(keypointsOnly)).toThrow(/training_keypoints_only\.csv, column 'Image': the table has no images/);
  });

  it('rejects a table missing a column of the keypoint set, listing its columns', () => {
    const nose: KeypointTable = { ...table, columns: ['nose_tip_x', 'nose_tip_y'], keypoints: new Float32Array(8) };
    expect(() => toDataset(nose)).toThrow(ConfigError);
    expect(() => toDataset(nose)).toThrow(/its keypoint columns are: nose_tip_x, nose_tip_y/);
  });

  it('rejects a table in which no row is complete', () => {
    const sparse: KeypointTable = { ...table, count: 1, keypoints: table.keypoints.slice(90, 120), images: table.images?.slice(0, IMAGE_PIXELS) };
    expect(() => toDataset(sparse)).toThrow(/none of the 1 rows has every keypoint of set 'full'/);
  });
});
