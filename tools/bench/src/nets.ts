import type * as TF from '@tensorflow/tfjs';

/** The nets the benchmark runs (Nouri 2014). */
export const BENCH_NETS = ['net1', 'net2', 'net6'] as const;
export type BenchNet = (typeof BENCH_NETS)[number];

/**
 * Build one of Nouri's nets as a `tf.layers` model: input `[N, 96, 96, 1]`, output `[N, 30]`.
 * - net1: flatten, dense 100 relu, dense 30;
 * - net2: conv32 3×3, pool 2, conv64 2×2, pool 2, conv128 2×2, pool 2, dense 500, dense 500,
 *   dense 30 (ReLU except the last, valid padding);
 * - net6: net2 with dropout 0.1 / 0.2 / 0.3 after the pools and 0.5 after the first dense layer.
 *
 * Defined here rather than taken from `@keypoints/models` so that the benchmark measures fixed
 * architectures.
 */
export function buildBenchNet(tf: typeof TF, name: BenchNet): TF.Sequential {
  const m = tf.sequential({ name });
  if (name === 'net1') {
    m.add(tf.layers.flatten({ inputShape: [96, 96, 1] }));
    m.add(tf.layers.dense({ units: 100, activation: 'relu' }));
    m.add(tf.layers.dense({ units: 30 }));
    return m;
  }
  const dropout = (rate: number): void => {
    if (name === 'net6') m.add(tf.layers.dropout({ rate }));
  };
  m.add(tf.layers.conv2d({ inputShape: [96, 96, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  dropout(0.1);
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 2, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  dropout(0.2);
  m.add(tf.layers.conv2d({ filters: 128, kernelSize: 2, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  dropout(0.3);
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 500, activation: 'relu' }));
  dropout(0.5);
  m.add(tf.layers.dense({ units: 500, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 30 }));
  return m;
}
