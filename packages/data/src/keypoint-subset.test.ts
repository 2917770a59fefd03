import { describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError, FULL_KEYPOINT_SET, SPECIALIST_KEYPOINT_SETS, keypointSet } from '@keypoints/core';
import { completeRowCount, restrictToKeypointSet } from './index.js';
import type { Dataset } from './dataset.js';

/** Three rows × 30 columns; row 1 lacks the nose tip, row 2 lacks everything but the eye centres. */
function dataset(): Dataset {
  const k = 30;
  const targets = Float32Array.from({ length: 3 * k }, (_, i) => i / 100);
  const mask = new Float32Array(3 * k).fill(1);
  mask.fill(0, k + 20, k + 22); // row 1: nose_tip x, y
  mask.fill(0, 2 * k + 4, 3 * k); // row 2: all but the first 4 columns
  return {
    count: 3,
    keypointSet: FULL_KEYPOINT_SET,
    images: Float32Array.from({ length: 3 * 9216 }, (_, i) => Math.floor(i / 9216)),
    targets,
    mask,
    identities: ['a', 'b', 'c'],
    sourceRows: Int32Array.from([10, 11, 12]),
  };
}

describe('restrictToKeypointSet', () => {
  it('keeps only the rows with every column of the group, in the group’s column order', () => {
    const nose = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'nose_tip')!;
    const r = restrictToKeypointSet(dataset(), nose);
    expect(r.count).toBe(1);
    expect(Array.from(r.sourceRows)).toEqual([10]);
    expect(r.identities).toEqual(['a']);
    expect(Array.from(r.targets)).toEqual([0.2, 0.21].map(Math.fround));
    expect(r.keypointSet).toBe(nose);
  });

  it('shares the images when no row is dropped, and masks instead of dropping on request', () => {
    const ds = dataset();
    const eyes = SPECIALIST_KEYPOINT_SETS[0];
    const r = restrictToKeypointSet(ds, eyes);
    expect(r.count).toBe(3);
    expect(r.images).toBe(ds.images);
    const swapped = keypointSet('swapped', ['right_eye_center', 'nose_tip']);
    const m = restrictToKeypointSet(ds, swapped, { dropIncomplete: false });
    expect(m.count).toBe(3);
    expect(Array.from(m.mask)).toEqual([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0]);
    expect(m.targets[0]).toBeCloseTo(0.02);
    expect(m.targets[2]).toBeCloseTo(0.2);
  });

  it('counts complete rows per group and refuses unknown columns or an empty result', () => {
    const ds = dataset();
    expect(SPECIALIST_KEYPOINT_SETS.map((s) => completeRowCount(ds, s))).toEqual([3, 1, 2, 2, 2, 2]);
    const narrow = restrictToKeypointSet(ds, SPECIALIST_KEYPOINT_SETS[0]);
    expect(() => restrictToKeypointSet(narrow, SPECIALIST_KEYPOINT_SETS[1])).toThrow(ConfigError);
    const onlyRow2 = restrictToKeypointSet(ds, FULL_KEYPOINT_SET, { dropIncomplete: false });
    onlyRow2.mask.fill(0);
    expect(() => restrictToKeypointSet(onlyRow2, SPECIALIST_KEYPOINT_SETS[1])).toThrow(DataFormatError);
  });
});
