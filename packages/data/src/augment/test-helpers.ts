/**
 * Test-only helpers of the augmentations (not exported from the package): real faces from the embedded
 * sample, batches copied from datasets, and "blob" images with one bright spot on every keypoint, so a
 * test can check that an augmented keypoint still sits on its feature.
 */
import path from 'node:path';
import { FULL_KEYPOINT_SET, IMAGE_PIXELS, IMAGE_SIZE, toPixels } from '@keypoints/core';
import type { KeypointSet } from '@keypoints/core';
import type { MutableBatch } from '../augmentation.js';
import type { Dataset } from '../dataset.js';
import { readKaggleCsv } from '../kaggle-csv.reader.js';
import { toDataset } from '../load.js';
import { SAMPLE_DIR } from '../convert/test-paths.js';

/** `packages/sample-data/data/training.csv.gz` (real faces, all 15 keypoints present in every row). */
export const SAMPLE_TRAINING = path.join(SAMPLE_DIR, 'training.csv.gz');

/** The first `rows` real faces of the sample, as a dataset of `set`'s columns. */
export async function sampleFaces(rows: number, set: KeypointSet = FULL_KEYPOINT_SET): Promise<Dataset> {
  return toDataset(await readKaggleCsv(SAMPLE_TRAINING, { maxRows: rows }), set);
}

/** A fresh copy of rows `first … first + size − 1` of a dataset, as an augmentable batch. */
export function batchOf(ds: Dataset, first = 0, size = ds.count - first): MutableBatch {
  const k = ds.keypointSet.columns.length;
  return {
    size,
    images: ds.images.slice(first * IMAGE_PIXELS, (first + size) * IMAGE_PIXELS),
    targets: ds.targets.slice(first * k, (first + size) * k),
    mask: ds.mask.slice(first * k, (first + size) * k),
  };
}

/** Copy of a batch (to compare before/after). */
export function copyBatch(b: MutableBatch): MutableBatch {
  return { size: b.size, images: b.images.slice(), targets: b.targets.slice(), mask: b.mask.slice() };
}

/** Image `i` of a batch as a `[96, 96]` view. */
export function imageOf(b: MutableBatch, i: number): Float32Array {
  return b.images.subarray(i * IMAGE_PIXELS, (i + 1) * IMAGE_PIXELS);
}

/** Gaussian spot width (pixels) of {@link keypointSpots}. */
const BLOB_SIGMA = 0.8;

/**
 * One sample per (face, keypoint) of the first `faces` rows of `ds`: all of the face's targets, but only
 * that keypoint present (mask 1 on its x and y), and as image a black square with one Gaussian spot
 * (σ 0.8 px, peak 1) centred on it, placed as the converter places keypoints (pixel `c` centred on
 * `x = c`). So an augmentation keeps labels on features iff each present keypoint still sits on the spot.
 */
export function keypointSpots(ds: Dataset, faces = ds.count): MutableBatch {
  const k = ds.keypointSet.columns.length;
  const perFace = k / 2;
  const size = faces * perFace;
  const batch: MutableBatch = {
    size,
    images: new Float32Array(size * IMAGE_PIXELS),
    targets: new Float32Array(size * k),
    mask: new Float32Array(size * k),
  };
  for (let f = 0; f < faces; f++) {
    for (let p = 0; p < perFace; p++) {
      const i = f * perFace + p;
      batch.targets.set(ds.targets.subarray(f * k, (f + 1) * k), i * k);
      batch.mask[i * k + 2 * p] = 1;
      batch.mask[i * k + 2 * p + 1] = 1;
      const x = toPixels(ds.targets[f * k + 2 * p]);
      const y = toPixels(ds.targets[f * k + 2 * p + 1]);
      for (let r = 0; r < IMAGE_SIZE; r++) {
        for (let c = 0; c < IMAGE_SIZE; c++) {
          batch.images[i * IMAGE_PIXELS + r * IMAGE_SIZE + c] = Math.exp(-((c - x) ** 2 + (r - y) ** 2) / (2 * BLOB_SIGMA ** 2));
        }
      }
    }
  }
  return batch;
}

/**
 * Largest distance (pixels) between each present keypoint of each sample and the intensity centroid of
 * the image within 4 px of it: how far the labels sit from the spots of {@link keypointSpots}.
 */
export function maxBlobOffsetPx(batch: MutableBatch, k: number): number {
  let worst = 0;
  for (let i = 0; i < batch.size; i++) {
    for (let j = 0; j < k; j += 2) {
      if (batch.mask[i * k + j] === 0) continue;
      const x = toPixels(batch.targets[i * k + j]);
      const y = toPixels(batch.targets[i * k + j + 1]);
      let sum = 0;
      let sx = 0;
      let sy = 0;
      for (let r = Math.max(0, Math.round(y) - 4); r <= Math.min(IMAGE_SIZE - 1, Math.round(y) + 4); r++) {
        for (let c = Math.max(0, Math.round(x) - 4); c <= Math.min(IMAGE_SIZE - 1, Math.round(x) + 4); c++) {
          if ((c - x) ** 2 + (r - y) ** 2 > 16) continue;
          const v = batch.images[i * IMAGE_PIXELS + r * IMAGE_SIZE + c];
          sum += v;
          sx += v * c;
          sy += v * r;
        }
      }
      const d = sum > 0 ? Math.hypot(sx / sum - x, sy / sum - y) : Infinity;
      worst = Math.max(worst, d);
    }
  }
  return worst;
}
