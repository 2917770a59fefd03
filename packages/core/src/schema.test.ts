import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '@keypoints/test-support';
import { FULL_KEYPOINT_SET, KAGGLE_COLUMNS, SPECIALIST_KEYPOINT_SETS, keypointSet } from './index.js';

const kaggle = sharedData({ files: ['kaggle/training_keypoints_only.csv'], what: 'the header check against the real Kaggle table' });
const KAGGLE_TABLE = kaggle.path('kaggle', 'training_keypoints_only.csv');

describe('Kaggle schema', () => {
  it.skipIf(!kaggle.available)('has the 30 columns of the real training.csv header, in order', () => {
    const header = readFileSync(KAGGLE_TABLE, 'utf8').split('\n', 1)[0].split(',');
    expect(KAGGLE_COLUMNS).toEqual(header);
  });

  it('derives the full-set flip pairs of Nouri 2014', () => {
    expect(FULL_KEYPOINT_SET.flipPairs).toEqual([
      [0, 2], [1, 3], [4, 8], [5, 9], [6, 10], [7, 11],
      [12, 16], [13, 17], [14, 18], [15, 19], [22, 24], [23, 25],
    ]);
  });

  it('gives each specialist group its own flip pairs', () => {
    const byName = Object.fromEntries(SPECIALIST_KEYPOINT_SETS.map((s) => [s.name, s]));
    expect(byName.eye_center.flipPairs).toEqual([[0, 2], [1, 3]]);
    expect(byName.nose_tip.flipPairs).toEqual([]);
    expect(byName.mouth_corners_top_lip.flipPairs).toEqual([[0, 2], [1, 3]]);
    expect(byName.eye_corners.flipPairs).toEqual([[0, 2], [1, 3], [4, 6], [5, 7]]);
    expect(byName.eye_corners.columns.slice(0, 4)).toEqual([
      'left_eye_inner_corner_x', 'left_eye_inner_corner_y', 'right_eye_inner_corner_x', 'right_eye_inner_corner_y',
    ]);
    expect(byName.eyebrows.flipPairs).toEqual([[0, 2], [1, 3], [4, 6], [5, 7]]);
  });

  it('rejects unknown keypoint names with a CONFIG_INVALID error', () => {
    // @ts-expect-error deliberately wrong name
    expect(() => keypointSet('x', ['left_ear'])).toThrow(/Unknown keypoint 'left_ear'/);
  });
});

describe('errors', async () => {
  const { DataFormatError, isKeypointsError } = await import('./index.js');
  it('formats file, line and column, and is recognised by code but not Node errors', () => {
    const e = new DataFormatError({ file: 'training.csv', line: 3, column: 'Image' }, 'expected 9216 pixels, found 9215');
    expect(e.message).toBe("training.csv, line 3, column 'Image': expected 9216 pixels, found 9215");
    expect(isKeypointsError(e, 'DATA_FORMAT')).toBe(true);
    const enoent = Object.assign(new Error('no such file'), { code: 'ENOENT' });
    expect(isKeypointsError(enoent)).toBe(false);
  });
});
