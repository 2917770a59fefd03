import * as tf from '@tensorflow/tfjs';
import { ConfigError, IMAGE_SIZE } from '@keypoints/core';

/** Input of every model here: one grey 96×96 image, NHWC without the batch axis. */
export const MODEL_INPUT_SHAPE: readonly [number, number, number] = [IMAGE_SIZE, IMAGE_SIZE, 1];

/** Options of {@link buildFullyConnected}. */
export interface FullyConnectedConfig {
  /** Units of the single hidden ReLU layer. Default 100 (Nouri 2014, net1). */
  readonly hidden?: number;
  /** Linear outputs: 30 for the full keypoint set (x, y of 15 keypoints); fewer for a specialist. Default 30. */
  readonly outputs?: number;
  /**
   * Seed of the Glorot-uniform kernel initialisers: the same seed gives the same weights.
   * Layer `i` (1-based) is seeded with `seed + i - 1`. Default: unseeded (different every build).
   */
  readonly seed?: number;
  /** Model name. Default `'net1'`. */
  readonly name?: string;
}

/**
 * Build net1, the fully connected baseline (Nouri 2014, "net1"; Staravoitau 2017, one hidden
 * layer): input → flatten → dense `hidden` ReLU → dense `outputs` linear, Glorot-uniform
 * kernels and zero biases (Lasagne's defaults, which Nouri used). Returns an uncompiled
 * `tf.sequential` model; the trainer compiles it.
 *
 * - Input: `[N, 96, 96, 1]` float32 in [0, 1] (pixel / 255).
 * - Output: `[N, outputs]` keypoints, normalized `(px − 48) / 48` (about [−1, 1]).
 * - Parameters with the defaults: 9216·100 + 100 + 100·30 + 30 = 924 730.
 *
 * Layer names: `flatten`, `hidden1`, `output`. Weights are created on the current tfjs
 * backend, so initialise one first (`selectBackend`).
 *
 * @param config see {@link FullyConnectedConfig}; default `{}` (net1).
 * @returns the model (call `dispose()` when done).
 * @throws {ConfigError} when `hidden` or `outputs` is not a positive integer, or `seed` is not an integer.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { buildFullyConnected } from '@keypoints/models';
 * await tf.setBackend('cpu');
 * const net1 = buildFullyConnected({ seed: 42 });
 * net1.predict(tf.zeros([1, 96, 96, 1])); // Tensor [1, 30]
 * ```
 */
export function buildFullyConnected(config: FullyConnectedConfig = {}): tf.Sequential {
  const { hidden = 100, outputs = 30, seed, name = 'net1' } = config;
  positiveInteger('hidden', hidden);
  positiveInteger('outputs', outputs);
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new ConfigError(`fc builder: seed must be an integer, got ${seed}`);
  }
  const kernel = (layer: number) =>
    tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + layer - 1 });
  return tf.sequential({
    name,
    layers: [
      tf.layers.flatten({ name: 'flatten', inputShape: [...MODEL_INPUT_SHAPE] }),
      tf.layers.dense({
        name: 'hidden1',
        units: hidden,
        activation: 'relu',
        kernelInitializer: kernel(1),
        biasInitializer: 'zeros',
      }),
      tf.layers.dense({
        name: 'output',
        units: outputs,
        activation: 'linear',
        kernelInitializer: kernel(2),
        biasInitializer: 'zeros',
      }),
    ],
  });
}

function positiveInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`fc builder: ${field} must be a positive integer, got ${value}`);
  }
}
