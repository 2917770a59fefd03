// Test helpers (not exported from the package): a tiny deterministic regression problem.
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '@keypoints/core';
import type { BatchSource, TrainingBatch } from './trainer.js';

/** 8×8×1 inputs, 4 outputs, a fixed random linear map. */
export function problem(n: number, seed = 1) {
  const rng = new SeededRandom(seed);
  const d = 64;
  const k = 4;
  const w = Float32Array.from({ length: d * k }, () => rng.uniform(-0.2, 0.2));
  const images = Float32Array.from({ length: n * d }, () => rng.next());
  const targets = new Float32Array(n * k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += images[i * d + p] * w[p * k + j];
      targets[i * k + j] = s;
    }
  return { count: n, images, targets, mask: new Float32Array(n * k).fill(1) };
}

/** Batches in a seeded order per epoch (depends only on seed and epoch, like BatchIterator). */
export function source(data: ReturnType<typeof problem>, batchSize = 16, seed = 7): BatchSource {
  return {
    count: data.count,
    batchesPerEpoch: Math.ceil(data.count / batchSize),
    *epoch(e: number): Iterable<TrainingBatch> {
      const order = new SeededRandom(seed * 1000 + e).permutation(data.count);
      for (let s = 0; s < data.count; s += batchSize) {
        const idx = order.slice(s, s + batchSize);
        const images = new Float32Array(idx.length * 64);
        const targets = new Float32Array(idx.length * 4);
        idx.forEach((r, i) => {
          images.set(data.images.subarray(r * 64, r * 64 + 64), i * 64);
          targets.set(data.targets.subarray(r * 4, r * 4 + 4), i * 4);
        });
        yield { size: idx.length, images, targets, mask: new Float32Array(idx.length * 4).fill(1) };
      }
    },
  };
}

export function model(seed = 3): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 1] }),
      tf.layers.dense({ units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}
