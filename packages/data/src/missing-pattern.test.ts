import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FULL_KEYPOINT_SET, KAGGLE_COLUMNS, KAGGLE_KEYPOINTS, SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import type { Dataset, KeypointTable } from './dataset.js';
import { readKaggleCsv } from './kaggle-csv.reader.js';
import { completeRowCount, restrictToKeypointSet } from './keypoint-subset.js';
import { applyMissingPattern, missingPatternOf } from './missing-pattern.js';
import { KEYPOINTS_ONLY_CSV, realKeypointsData, syntheticDataset } from './test-fixtures.js';

const real = realKeypointsData();

const W = KAGGLE_COLUMNS.length;

/** Non-missing count per keypoint of the real table (shared/data/README.md). */
const PRESENT: Record<string, number> = {
  left_eye_center: 7039,
  right_eye_center: 7036,
  left_eye_inner_corner: 2271,
  left_eye_outer_corner: 2267,
  right_eye_inner_corner: 2268,
  right_eye_outer_corner: 2268,
  left_eyebrow_inner_end: 2270,
  left_eyebrow_outer_end: 2225,
  right_eyebrow_inner_end: 2270,
  right_eyebrow_outer_end: 2236,
  nose_tip: 7049,
  mouth_left_corner: 2269,
  mouth_right_corner: 2270,
  mouth_center_top_lip: 2275,
  mouth_center_bottom_lip: 7016,
};

function columnFractions(mask: Float32Array | Uint8Array, rows: number, width: number): number[] {
  const sums = new Array<number>(width).fill(0);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) sums[j] += mask[r * width + j] > 0 ? 1 : 0;
  return sums.map((s) => s / rows);
}

let table: KeypointTable;
let patterns: Uint8Array;
let complete: Dataset;
beforeAll(async () => {
  if (!real.available) return;
  table = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false });
  patterns = missingPatternOf(table);
  complete = syntheticDataset(4000, Array.from({ length: 4000 }, (_, i) => `id${i % 97}`));
});

describe.skipIf(!real.available)('missingPatternOf', () => {
  it('gives [7049, 30] present flags of the real Kaggle table', () => {
    expect(patterns).toBeInstanceOf(Uint8Array);
    expect(patterns.length).toBe(7049 * W);
    expect(patterns.every((v) => v === 0 || v === 1)).toBe(true);
    const sums = columnFractions(patterns, 7049, W).map((f) => Math.round(f * 7049));
    KAGGLE_KEYPOINTS.forEach((k, i) => {
      expect(sums[2 * i], `${k}_x`).toBe(PRESENT[k]);
      expect(sums[2 * i + 1], `${k}_y`).toBe(PRESENT[k]);
    });
    // 2140 complete rows, 4755 rows with only 4 keypoints (8 values)
    const perRow = Array.from({ length: 7049 }, (_, r) => patterns.subarray(r * W, (r + 1) * W).reduce((a, b) => a + b, 0));
    expect(perRow.filter((n) => n === W).length).toBe(2140);
    expect(perRow.filter((n) => n === 8).length).toBe(4755);
  });

  it('orders its columns like KAGGLE_COLUMNS whatever the table order', async () => {
    const reversed = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false, columns: [...KAGGLE_COLUMNS].reverse(), maxRows: 300 });
    expect(missingPatternOf(reversed)).toEqual(patterns.subarray(0, 300 * W));
  });

  it('rejects a table without all 30 Kaggle columns', async () => {
    const narrow = await readKaggleCsv(KEYPOINTS_ONLY_CSV, { requireImage: false, columns: KAGGLE_COLUMNS.slice(0, 4), maxRows: 5 });
    expect(() => missingPatternOf(narrow)).toThrow(ConfigError);
    expect(() => missingPatternOf(narrow)).toThrow(/nose_tip_x/);
  });
});

describe.skipIf(!real.available)('applyMissingPattern', () => {
  it('gives a complete set per-column presence fractions within 3 points of the real table', () => {
    const real = columnFractions(patterns, 7049, W);
    const out = applyMissingPattern(complete, patterns, { seed: 42 });
    const got = columnFractions(out.mask, out.count, W);
    got.forEach((f, j) => expect(Math.abs(f - real[j]), KAGGLE_COLUMNS[j]).toBeLessThan(0.03));
    // whole-row structure too: complete rows and specialist row shares
    expect(Math.abs(completeRowCount(out, FULL_KEYPOINT_SET) / 4000 - 2140 / 7049)).toBeLessThan(0.03);
    const eyebrows = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'eyebrows')!;
    expect(Math.abs(completeRowCount(out, eyebrows) / 4000 - 2190 / 7049)).toBeLessThan(0.03);
  });

  it('keeps count, images (shared), identities and sourceRows; only removes values', () => {
    const out = applyMissingPattern(complete, patterns, { seed: 7 });
    expect(out.count).toBe(complete.count);
    expect(out.keypointSet).toBe(complete.keypointSet);
    expect(out.images).toBe(complete.images);
    expect(out.identities).toBe(complete.identities);
    expect(out.sourceRows).toBe(complete.sourceRows);
    expect(out.targets).not.toBe(complete.targets);
    expect(out.mask.length).toBe(complete.mask.length);
    let removed = 0;
    const bad: number[] = [];
    for (let i = 0; i < out.mask.length; i++) {
      const m = out.mask[i];
      // a flag, never present where the input is missing; present: the input's value; missing: 0 (toDataset's convention)
      const ok = (m === 0 || m === 1) && m <= complete.mask[i] && out.targets[i] === (m > 0 ? complete.targets[i] : 0);
      if (!ok) bad.push(i);
      if (m === 0) removed++;
    }
    expect(bad).toEqual([]);
    expect(removed).toBeGreaterThan(0);
    // the input is untouched
    expect(complete.mask.every((m) => m === 1)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const a = applyMissingPattern(complete, patterns, { seed: 3 });
    const b = applyMissingPattern(complete, patterns, { seed: 3 });
    const c = applyMissingPattern(complete, patterns, { seed: 4 });
    expect(b.mask).toEqual(a.mask);
    expect(b.targets).toEqual(a.targets);
    expect(c.mask).not.toEqual(a.mask);
  });

  it('maps pattern columns by the dataset’s keypoint-set columns, and keeps missing values missing', () => {
    // eye_corners: left inner, right inner, left outer, right outer (not Kaggle order)
    const set = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'eye_corners')!;
    const small = restrictToKeypointSet(syntheticDataset(3), set, { dropIncomplete: false });
    const holed = { ...small, mask: small.mask.slice(), targets: small.targets.slice() };
    holed.mask[2 * 8 + 6] = 0; // row 2: right_eye_outer_corner_x already missing
    holed.targets[2 * 8 + 6] = 0;
    const pattern = new Uint8Array(W);
    for (const name of ['left_eye_inner_corner', 'right_eye_outer_corner']) {
      pattern[KAGGLE_COLUMNS.indexOf(`${name}_x`)] = 1;
      pattern[KAGGLE_COLUMNS.indexOf(`${name}_y`)] = 1;
    }
    const out = applyMissingPattern(holed, pattern, { seed: 1 });
    expect(Array.from(out.mask.subarray(0, 8))).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
    expect(Array.from(out.mask.subarray(8, 16))).toEqual([1, 1, 0, 0, 0, 0, 1, 1]);
    expect(Array.from(out.mask.subarray(16, 24))).toEqual([1, 1, 0, 0, 0, 0, 0, 1]);
    expect(out.targets[0]).toBe(small.targets[0]);
    expect(out.targets[7]).toBe(small.targets[7]);
    expect(out.targets[2]).toBe(0);
  });

  it('uses every pattern row once before reusing one', () => {
    // 3 distinct one-hot patterns, 6 rows: each used exactly twice
    const three = new Uint8Array(3 * W);
    for (let p = 0; p < 3; p++) three[p * W + 2 * p] = 1;
    const out = applyMissingPattern(syntheticDataset(6), three, { seed: 9 });
    const used = Array.from({ length: 6 }, (_, r) => out.mask.subarray(r * W, (r + 1) * W).indexOf(1) / 2);
    expect([...used.slice(0, 3)].sort()).toEqual([0, 1, 2]);
    expect([...used.slice(3)].sort()).toEqual([0, 1, 2]);
  });

  it('rejects patterns of the wrong width and a non-integer seed', () => {
    const ds = syntheticDataset(2);
    expect(() => applyMissingPattern(ds, new Uint8Array(29), { seed: 1 })).toThrow(ConfigError);
    expect(() => applyMissingPattern(ds, new Uint8Array(31), { seed: 1 })).toThrow(/multiple of 30/);
    expect(() => applyMissingPattern(ds, new Uint8Array(0), { seed: 1 })).toThrow(ConfigError);
    expect(() => applyMissingPattern(ds, new Uint8Array(W), { seed: 1.5 })).toThrow(ConfigError);
  });
});
