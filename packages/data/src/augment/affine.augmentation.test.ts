import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, FULL_KEYPOINT_SET, IMAGE_PIXELS, SeededRandom, keypointSet, toNormalized, toPixels } from '@keypoints/core';
import { AffineAugmentation, BatchIterator, FlipAugmentation, affineTransformSample } from '../index.js';
import type { AffineParams, Dataset, MutableBatch } from '../index.js';
import { batchOf, copyBatch, imageOf, keypointSpots, maxBlobOffsetPx, sampleFaces } from './test-helpers.js';

const K = FULL_KEYPOINT_SET.columns.length;
const shift = (dx: number, dy: number): AffineParams => ({ dx, dy, rotationDeg: 0, scale: 1 });
const px = (b: MutableBatch, i: number, j: number) => toPixels(b.targets[i * K + j]);
const nose = keypointSet('nose', ['nose_tip']);
/** A one-keypoint (nose_tip) sample at pixel position (x, y) with the given image. */
const single = (x: number, y: number, image = new Float32Array(IMAGE_PIXELS)): MutableBatch => ({
  size: 1,
  images: image,
  targets: Float32Array.from([toNormalized(x), toNormalized(y)]),
  mask: Float32Array.from([1, 1]),
});

let faces: Dataset;
beforeAll(async () => {
  faces = await sampleFaces(8);
});

describe('AffineAugmentation', () => {
  it('validates its options with ConfigError', () => {
    expect(new AffineAugmentation()).toMatchObject({
      name: 'affine',
      maxShiftPx: 3,
      maxRotationDeg: 10,
      maxScale: 0.05,
      probability: 1,
      fill: 'edge',
      outside: 'mask',
    });
    expect(() => new AffineAugmentation({ maxShiftPx: -1 })).toThrow(ConfigError);
    expect(() => new AffineAugmentation({ maxShiftPx: Number.POSITIVE_INFINITY })).toThrow(/maxShiftPx must be a number in \[0, 96\]/);
    expect(() => new AffineAugmentation({ maxRotationDeg: 181 })).toThrow('AffineAugmentation: maxRotationDeg must be a number in [0, 180], got 181');
    expect(() => new AffineAugmentation({ maxScale: 1 })).toThrow('AffineAugmentation: maxScale must be a number in [0, 1), got 1');
    expect(() => new AffineAugmentation({ probability: -0.1 })).toThrow(/probability/);
    expect(() => new AffineAugmentation({ fill: 'reflect' as 'edge' })).toThrow(/fill must be 'edge' or 'zero'/);
    expect(() => new AffineAugmentation({ outside: 'clamp' as 'mask' })).toThrow(/outside must be 'mask' or 'keep'/);
  });

  it('is the identity with zero shift, rotation and scale (bit for bit)', () => {
    const batch = batchOf(faces);
    const before = copyBatch(batch);
    new AffineAugmentation({ maxShiftPx: 0, maxRotationDeg: 0, maxScale: 0 }).apply(batch, new SeededRandom(1), FULL_KEYPOINT_SET);
    expect(batch).toEqual(before);
    affineTransformSample(batch, 3, shift(0, 0), FULL_KEYPOINT_SET);
    expect(batch).toEqual(before);
    // probability 0: nothing moves either
    new AffineAugmentation({ probability: 0, maxShiftPx: 10 }).apply(batch, new SeededRandom(1), FULL_KEYPOINT_SET);
    expect(batch).toEqual(before);
  });

  it('moves keypoints by +k px and the image content by k columns / rows under a pure shift', () => {
    const batch = batchOf(faces, 0, 2);
    const before = copyBatch(batch);
    affineTransformSample(batch, 1, shift(3, -2), FULL_KEYPOINT_SET, { fill: 'zero' });
    expect(imageOf(batch, 0)).toEqual(imageOf(before, 0));
    const img = imageOf(batch, 1);
    const old = imageOf(before, 1);
    for (let r = 0; r < 96; r++) {
      for (let c = 0; c < 96; c++) {
        const inside = c - 3 >= 0 && r + 2 <= 95;
        expect(img[r * 96 + c]).toBe(inside ? old[(r + 2) * 96 + c - 3] : 0);
      }
    }
    for (let j = 0; j < K; j += 2) {
      expect(px(batch, 1, j)).toBeCloseTo(px(before, 1, j) + 3, 4);
      expect(px(batch, 1, j + 1)).toBeCloseTo(px(before, 1, j + 1) - 2, 4);
    }
    expect(Array.from(batch.mask)).toEqual(Array.from(before.mask));
    // edge fill repeats the border column instead
    const edge = batchOf(faces, 0, 1);
    affineTransformSample(edge, 0, shift(3, 0), FULL_KEYPOINT_SET);
    for (let r = 0; r < 96; r++) {
      for (const c of [0, 1, 2, 3]) expect(imageOf(edge, 0)[r * 96 + c]).toBe(imageOf(before, 0)[r * 96]);
    }
  });

  it('rotates about the image centre (47.5, 47.5), clockwise on screen for a positive angle', () => {
    const centre = single(47.5, 47.5);
    affineTransformSample(centre, 0, { dx: 0, dy: 0, rotationDeg: 37, scale: 1.08 }, nose);
    expect(toPixels(centre.targets[0])).toBeCloseTo(47.5, 5);
    expect(toPixels(centre.targets[1])).toBeCloseTo(47.5, 5);
    // +90°: a point above the centre goes to the right of it; the image turns the same way
    const image = new Float32Array(IMAGE_PIXELS);
    image[10 * 96 + 47] = 1; // pixel (x 47, y 10)
    const top = single(47, 10, image);
    affineTransformSample(top, 0, { dx: 0, dy: 0, rotationDeg: 90, scale: 1 }, nose);
    // (x, y) → (95 − y, x)
    expect(toPixels(top.targets[0])).toBeCloseTo(85, 4);
    expect(toPixels(top.targets[1])).toBeCloseTo(47, 4);
    expect(top.images[47 * 96 + 85]).toBeCloseTo(1, 5);
    expect(top.images.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
  });

  it('scales distances from the centre by the scale factor', () => {
    const b = single(47.5 + 20, 47.5 - 10);
    affineTransformSample(b, 0, { dx: 1, dy: 0, rotationDeg: 0, scale: 1.1 }, nose);
    expect(toPixels(b.targets[0])).toBeCloseTo(47.5 + 22 + 1, 4);
    expect(toPixels(b.targets[1])).toBeCloseTo(47.5 - 11, 4);
  });

  it('keeps keypoints on their features for random shifts, rotations and scales', () => {
    const spots = keypointSpots(faces, 4);
    expect(maxBlobOffsetPx(spots, K)).toBeLessThan(0.01);
    new AffineAugmentation({ maxShiftPx: 4, maxRotationDeg: 15, maxScale: 0.1, fill: 'zero' }).apply(
      spots,
      new SeededRandom(11),
      FULL_KEYPOINT_SET,
    );
    // bilinear resampling blurs the spot a little; the label stays on it
    expect(maxBlobOffsetPx(spots, K)).toBeLessThan(0.1);
  });

  it('masks keypoints that leave the frame (default) or keeps them', () => {
    const batch = batchOf(faces, 0, 1);
    const before = copyBatch(batch);
    affineTransformSample(batch, 0, shift(40, 0), FULL_KEYPOINT_SET);
    for (let j = 0; j < K; j += 2) {
      const movedPx = px(before, 0, j) + 40;
      const expectedMask = movedPx <= 95.5 ? 1 : 0;
      expect([batch.mask[j], batch.mask[j + 1]], FULL_KEYPOINT_SET.columns[j]).toEqual([expectedMask, expectedMask]);
      if (expectedMask === 0) expect([batch.targets[j], batch.targets[j + 1]]).toEqual([0, 0]);
    }
    expect(batch.mask.includes(0)).toBe(true);
    expect(batch.mask.includes(1)).toBe(true);
    const kept = copyBatch(before);
    affineTransformSample(kept, 0, shift(40, 0), FULL_KEYPOINT_SET, { outside: 'keep' });
    expect(kept.mask.every((m) => m === 1)).toBe(true);
    expect(Math.max(...kept.targets)).toBeGreaterThan(1);
  });

  it('leaves missing targets at 0 with mask 0', () => {
    const b: MutableBatch = {
      size: 1,
      images: new Float32Array(IMAGE_PIXELS),
      targets: Float32Array.from([0, 0, toNormalized(50), toNormalized(60)]),
      mask: Float32Array.from([0, 0, 1, 1]),
    };
    affineTransformSample(b, 0, { dx: 2, dy: 1, rotationDeg: 5, scale: 0.95 }, keypointSet('two', ['left_eye_center', 'nose_tip']));
    expect(Array.from(b.mask)).toEqual([0, 0, 1, 1]);
    expect([b.targets[0], b.targets[1]]).toEqual([0, 0]);
    expect(toPixels(b.targets[2])).not.toBeCloseTo(50, 1);
  });

  it('rejects bad parameters and sample indices', () => {
    const b = batchOf(faces, 0, 1);
    expect(() => affineTransformSample(b, 1, shift(1, 0), FULL_KEYPOINT_SET)).toThrow(RangeError);
    expect(() => affineTransformSample(b, 0, { dx: 0, dy: 0, rotationDeg: 0, scale: 0 }, FULL_KEYPOINT_SET)).toThrow(/scale > 0/);
    expect(() => affineTransformSample(b, 0, shift(Number.NaN, 0), FULL_KEYPOINT_SET)).toThrow(RangeError);
  });

  it('composes with the flip in a BatchIterator: seeded, labels stay on features, about half the spots mirrored', () => {
    const spots = keypointSpots(faces, 4);
    const ds: Dataset = {
      count: spots.size,
      keypointSet: FULL_KEYPOINT_SET,
      images: spots.images,
      targets: spots.targets,
      mask: spots.mask,
      sourceRows: Int32Array.from({ length: spots.size }, (_, i) => i),
    };
    const augmentations = [new FlipAugmentation(), new AffineAugmentation({ maxShiftPx: 3, maxRotationDeg: 10, maxScale: 0.05 })];
    const it = new BatchIterator(ds, { batchSize: 16, seed: 9, augmentations });
    const epoch = [...it.epoch(0)];
    expect([...new BatchIterator(ds, { batchSize: 16, seed: 9, augmentations }).epoch(0)]).toEqual(epoch);
    for (const batch of epoch) {
      expect(maxBlobOffsetPx(batch, K)).toBeLessThan(0.1);
      // each sample still has exactly one present keypoint (the flip may have moved it to its partner's columns)
      for (let i = 0; i < batch.size; i++) expect(batch.mask.subarray(i * K, (i + 1) * K).reduce((s, m) => s + m, 0)).toBe(2);
    }
    // about half the spots changed side: count spots whose label moved to the other half of the image
    const order = it.epochOrder(0);
    let crossed = 0;
    epoch.forEach((batch, bi) => {
      for (let i = 0; i < batch.size; i++) {
        const r = order[bi * 16 + i];
        const j = Array.from(ds.mask.subarray(r * K, (r + 1) * K)).indexOf(1);
        const jNow = Array.from(batch.mask.subarray(i * K, (i + 1) * K)).indexOf(1);
        const was = toPixels(ds.targets[r * K + j]);
        const now = toPixels(batch.targets[i * K + jNow]);
        if (Math.abs(now - (95 - was)) < 6 && Math.abs(now - was) > 6) crossed++;
      }
    });
    expect(crossed).toBeGreaterThan(10);
    expect(crossed).toBeLessThan(ds.count / 2 + 1);
  });
});
