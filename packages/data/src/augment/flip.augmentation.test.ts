import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  FULL_KEYPOINT_SET,
  IMAGE_PIXELS,
  SPECIALIST_KEYPOINT_SETS,
  SeededRandom,
  keypointSet,
  toNormalized,
  toPixels,
} from '@keypoints/core';
import type { KeypointSet } from '@keypoints/core';
import { BatchIterator, FlipAugmentation, flipSamples } from '../index.js';
import type { Dataset, MutableBatch } from '../index.js';
import { batchOf, copyBatch, imageOf, keypointSpots, maxBlobOffsetPx, sampleFaces } from './test-helpers.js';

const K = FULL_KEYPOINT_SET.columns.length;
const col = (set: KeypointSet, name: string) => {
  const j = set.columns.indexOf(name);
  if (j < 0) throw new Error(`no column ${name} in ${set.name}`);
  return j;
};
/** `left_…` ↔ `right_…` (the subject's sides), e.g. `mouth_left_corner_x` ↔ `mouth_right_corner_x`. */
const partnerName = (name: string) =>
  name.includes('left') ? name.replace('left', 'right') : name.includes('right') ? name.replace('right', 'left') : name;
/** Indices of the samples whose image differs from the original's. */
const changedSamples = (before: MutableBatch, after: MutableBatch) =>
  Array.from({ length: after.size }, (_, i) => i).filter((i) => !imageOf(after, i).every((v, p) => v === imageOf(before, i)[p]));

let faces: Dataset;
beforeAll(async () => {
  faces = await sampleFaces(16);
});

describe('FlipAugmentation', () => {
  it('validates its options', () => {
    expect(new FlipAugmentation()).toMatchObject({ name: 'flip', probability: 0.5, convention: 'pixel-centre' });
    expect(() => new FlipAugmentation({ probability: 1.5 })).toThrow(ConfigError);
    expect(() => new FlipAugmentation({ probability: Number.NaN })).toThrow(
      'FlipAugmentation: probability must be a number in [0, 1], got NaN',
    );
    expect(() => new FlipAugmentation({ convention: 'corner' as 'nouri' })).toThrow(/convention must be 'pixel-centre' or 'nouri'/);
  });

  it('mirrors a real face: pixel (row, c) becomes the old pixel (row, 95 − c)', () => {
    const batch = batchOf(faces, 0, 2);
    const before = copyBatch(batch);
    flipSamples(batch, [1], FULL_KEYPOINT_SET);
    expect(imageOf(batch, 0)).toEqual(imageOf(before, 0)); // not asked for: untouched
    const img = imageOf(batch, 1);
    const old = imageOf(before, 1);
    for (let r = 0; r < 96; r++) {
      for (let c = 0; c < 96; c++) expect(img[r * 96 + c]).toBe(old[r * 96 + 95 - c]);
    }
    expect(img).not.toEqual(old); // a real face is not perfectly symmetric
  });

  it("puts the new left eye where the right eye was: x → 95 − x px (−x − 1/48 normalized), y unchanged", () => {
    const batch = batchOf(faces, 0, 4);
    const before = copyBatch(batch);
    flipSamples(batch, [0, 1, 2, 3], FULL_KEYPOINT_SET);
    const [lx, ly, rx, ry] = ['left_eye_center_x', 'left_eye_center_y', 'right_eye_center_x', 'right_eye_center_y'].map((c) =>
      col(FULL_KEYPOINT_SET, c),
    );
    for (let i = 0; i < 4; i++) {
      const t = (j: number) => batch.targets[i * K + j];
      const o = (j: number) => before.targets[i * K + j];
      expect(t(lx)).toBe(Math.fround(-o(rx) - 1 / 48));
      expect(toPixels(t(lx))).toBeCloseTo(95 - toPixels(o(rx)), 4);
      expect(t(rx)).toBe(Math.fround(-o(lx) - 1 / 48));
      expect(t(ly)).toBe(o(ry));
      expect(t(ry)).toBe(o(ly));
      // the subject's left eye is on the image's right before and after the flip
      expect(t(lx)).toBeGreaterThan(t(rx));
    }
  });

  it("with convention 'nouri' maps x → −x normalized (96 − x px), as kfkd.py does", () => {
    const batch = batchOf(faces, 0, 1);
    const before = copyBatch(batch);
    flipSamples(batch, [0], FULL_KEYPOINT_SET, 'nouri');
    const lx = col(FULL_KEYPOINT_SET, 'left_eye_center_x');
    const rx = col(FULL_KEYPOINT_SET, 'right_eye_center_x');
    expect(batch.targets[lx]).toBe(-before.targets[rx]);
    expect(toPixels(batch.targets[lx])).toBeCloseTo(96 - toPixels(before.targets[rx]), 4);
  });

  it('keeps the keypoints on the mirrored features (pixel-centre), where 96 − x misses by one pixel', () => {
    // One image per (face, keypoint) with a bright spot on that keypoint, placed as the converter places
    // keypoints (pixel c centred on x = c); only that keypoint is present.
    const spots = keypointSpots(faces, 8);
    const all = Array.from({ length: spots.size }, (_, i) => i);
    expect(maxBlobOffsetPx(spots, K)).toBeLessThan(0.01);
    const centre = copyBatch(spots);
    flipSamples(centre, all, FULL_KEYPOINT_SET);
    expect(maxBlobOffsetPx(centre, K)).toBeLessThan(0.01);
    const nouri = copyBatch(spots);
    flipSamples(nouri, all, FULL_KEYPOINT_SET, 'nouri');
    expect(maxBlobOffsetPx(nouri, K)).toBeGreaterThan(0.9);
  });

  it('restores a face flipped twice: images and mask exactly, targets within one float32 ulp', () => {
    for (const convention of ['pixel-centre', 'nouri'] as const) {
      const batch = batchOf(faces);
      const before = copyBatch(batch);
      const all = Array.from({ length: batch.size }, (_, i) => i);
      flipSamples(batch, all, FULL_KEYPOINT_SET, convention);
      expect(batch.targets).not.toEqual(before.targets);
      flipSamples(batch, all, FULL_KEYPOINT_SET, convention);
      expect(batch.images).toEqual(before.images);
      expect(batch.mask).toEqual(before.mask);
      // within one float32 ulp of the larger of |x| and |−x − 1/48| (exact with 'nouri')
      const worst = Math.max(
        ...Array.from(batch.targets, (v, j) => Math.abs(v - before.targets[j]) / 2 ** (Math.floor(Math.log2(Math.abs(before.targets[j]) + 1 / 48)) - 23)),
      );
      expect(worst, convention).toBeLessThanOrEqual(convention === 'nouri' ? 0 : 1);
    }
    // the same through the augmentation with probability 1
    const batch = batchOf(faces, 0, 5);
    const before = copyBatch(batch);
    const flip = new FlipAugmentation({ probability: 1, convention: 'nouri' });
    flip.apply(batch, new SeededRandom(1), FULL_KEYPOINT_SET);
    flip.apply(batch, new SeededRandom(2), FULL_KEYPOINT_SET);
    expect(batch).toEqual(before);
  });

  it('flips exactly half of each batch (floor for an odd size), a different half each time', () => {
    const flip = new FlipAugmentation();
    const rng = new SeededRandom(7);
    const subsets = new Set<string>();
    for (const size of [16, 16, 16, 16, 7, 1]) {
      const batch = batchOf(faces, 0, size);
      const before = copyBatch(batch);
      flip.apply(batch, rng, FULL_KEYPOINT_SET);
      const flipped = changedSamples(before, batch);
      expect(flipped).toHaveLength(Math.floor(size / 2));
      subsets.add(flipped.join(','));
      // the others are untouched, targets and mask included
      for (let i = 0; i < size; i++) {
        if (flipped.includes(i)) continue;
        expect(batch.targets.subarray(i * K, (i + 1) * K)).toEqual(before.targets.subarray(i * K, (i + 1) * K));
      }
    }
    expect(subsets.size).toBeGreaterThanOrEqual(4);
    for (const [p, n] of [
      [0, 0],
      [1, 16],
      [0.25, 4],
      [0.57, 9],
    ]) {
      const batch = batchOf(faces);
      const before = copyBatch(batch);
      new FlipAugmentation({ probability: p }).apply(batch, new SeededRandom(3), FULL_KEYPOINT_SET);
      expect(changedSamples(before, batch), `probability ${p}`).toHaveLength(n);
    }
  });

  it('is seeded through the BatchIterator, and a validation iterator (no augmentations) never flips', () => {
    const it = new BatchIterator(faces, { batchSize: 8, seed: 3, augmentations: [new FlipAugmentation()] });
    const a = [...it.epoch(0)];
    const b = [...new BatchIterator(faces, { batchSize: 8, seed: 3, augmentations: [new FlipAugmentation()] }).epoch(0)];
    expect(b).toEqual(a);
    expect(a.map((x) => x.images)).not.toEqual([...it.epoch(1)].map((x) => x.images));
    // every face of the epoch appears once, half of them mirrored
    const plain = new BatchIterator(faces, { batchSize: 8, seed: 3 });
    const order = plain.epochOrder(0);
    let flipped = 0;
    a.forEach((batch, bi) => {
      for (let i = 0; i < batch.size; i++) {
        const r = order[bi * 8 + i];
        const original = faces.images.subarray(r * IMAGE_PIXELS, (r + 1) * IMAGE_PIXELS);
        if (!imageOf(batch, i).every((v, p) => v === original[p])) flipped++;
      }
    });
    expect(flipped).toBe(8);
    const validation = [...new BatchIterator(faces, { batchSize: 8, shuffle: false }).epoch(0)];
    expect(validation.flatMap((v) => Array.from(v.targets))).toEqual(Array.from(faces.targets));
  });

  it('swaps the pairs of every specialist set (x mirrored, y kept, left ↔ right by name)', async () => {
    for (const set of SPECIALIST_KEYPOINT_SETS) {
      const ds = await sampleFaces(3, set);
      const k = set.columns.length;
      const batch = batchOf(ds);
      const before = copyBatch(batch);
      flipSamples(batch, [0, 1, 2], set);
      for (let i = 0; i < 3; i++) {
        set.columns.forEach((name, j) => {
          const from = before.targets[i * k + col(set, partnerName(name))];
          const expected = name.endsWith('_x') ? Math.fround(-from - 1 / 48) : from;
          expect(batch.targets[i * k + j], `${set.name} ${name}`).toBe(expected);
        });
      }
    }
    // eye_corners in detail: columns [left inner, right inner, left outer, right outer], pairs (0,2)(1,3)(4,6)(5,7)
    const corners = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'eye_corners')!;
    expect(corners.flipPairs).toEqual([
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ]);
    const batch = batchOf(await sampleFaces(1, corners));
    const [lix, liy, rix, riy] = Array.from(batch.targets.slice(0, 4));
    flipSamples(batch, [0], corners);
    expect(toPixels(batch.targets[0])).toBeCloseTo(95 - toPixels(rix), 4); // new left inner corner x
    expect(batch.targets[1]).toBe(riy);
    expect(toPixels(batch.targets[2])).toBeCloseTo(95 - toPixels(lix), 4);
    expect(batch.targets[3]).toBe(liy);
  });

  it('keeps missing targets masked, swapping their mask with their partner', () => {
    const set = keypointSet('eyes_and_nose', ['left_eye_center', 'right_eye_center', 'nose_tip']);
    // one face: right eye missing (mask 0, target 0)
    const batch: MutableBatch = {
      size: 1,
      images: new Float32Array(IMAGE_PIXELS),
      targets: Float32Array.from([toNormalized(66), toNormalized(37), 0, 0, toNormalized(48), toNormalized(58)]),
      mask: Float32Array.from([1, 1, 0, 0, 1, 1]),
    };
    flipSamples(batch, [0], set);
    expect(Array.from(batch.mask)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(batch.targets[0]).toBe(0);
    expect(batch.targets[1]).toBe(0);
    expect(toPixels(batch.targets[2])).toBeCloseTo(95 - 66, 5);
    expect(toPixels(batch.targets[3])).toBeCloseTo(37, 5);
    expect(toPixels(batch.targets[4])).toBeCloseTo(95 - 48, 5);
    expect(toPixels(batch.targets[5])).toBeCloseTo(58, 5);
  });

  it('rejects sample indices outside the batch and sets whose columns are not x/y pairs', () => {
    const batch = batchOf(faces, 0, 2);
    expect(() => flipSamples(batch, [2], FULL_KEYPOINT_SET)).toThrow(RangeError);
    const odd: KeypointSet = { name: 'odd', columns: ['Image', 'nose_tip_x'], flipPairs: [] };
    expect(() => flipSamples(batch, [0], odd)).toThrow(/column 'Image' is neither an x/);
    const crossed: KeypointSet = { name: 'crossed', columns: ['nose_tip_x', 'nose_tip_y'], flipPairs: [[0, 1]] };
    expect(() => flipSamples(batch, [0], crossed)).toThrow(/flip pair \(0, 1\) must join two x or two y columns/);
  });
});
