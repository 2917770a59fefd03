import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@keypoints/core';
import { KeypointsDropout } from './dropout.layer.js';
import { MODEL_INPUT_SHAPE } from './fc.builder.js';

/** Options of {@link buildConvNet}. */
export interface ConvNetConfig {
  /**
   * Filters of each block's 3×3 convolutions; one block per entry, each halving the size with a 2×2
   * max-pool (96 → 48 → 24 → 12 → 6 for four blocks). Default `[16, 32, 64, 128]`.
   */
  readonly filters?: readonly number[];
  /** 3×3 convolutions per block (VGG's two, or one). Default 1. */
  readonly convsPerBlock?: number;
  /**
   * Batch normalization (Ioffe & Szegedy 2015) after every convolution, before its ReLU (the
   * convolution then has no bias). Default true.
   */
  readonly batchNorm?: boolean;
  /** Units of the hidden dense layer after the flatten (ReLU). Default 256. */
  readonly dense?: number;
  /** Dropout rate after the hidden dense layer (fraction dropped), in [0, 1). Default 0 (none). */
  readonly dropout?: number;
  /** Linear outputs: 30 for the full keypoint set, fewer for a specialist. Default 30. */
  readonly outputs?: number;
  /** Seed of the He-uniform kernel initialisers (layer `i`, 1-based, gets `seed + i − 1`). Default: unseeded. */
  readonly seed?: number;
  /** Model name. Default `'convnet'`. */
  readonly name?: string;
}

/**
 * Build this project's modern keypoint CNN (not in Nouri 2014; a small VGG-style net, Simonyan &
 * Zisserman 2015, with batch normalization): an uncompiled `tf.Sequential`
 *
 * ```
 * input [N, 96, 96, 1]
 * per block b = 1 … B: (conv{b}_{c} F_b @ 3×3 same → [bn{b}_{c}] → relu{b}_{c}) × convsPerBlock → pool{b} 2×2
 * flatten → hidden dense ReLU → [dropout] → output dense linear
 * ```
 *
 * He-uniform kernels (suited to ReLU), zero biases. Only stock tfjs layers (`conv2d`,
 * `batchNormalization`, `reLU`, `maxPooling2d`, `flatten`, `dense`, and our seeded dropout, saved as
 * stock `Dropout`), so a saved model loads with `@tensorflow/tfjs` alone, in a browser too.
 *
 * - Input: `[N, 96, 96, 1]` float32 in [0, 1] (pixel / 255), NHWC.
 * - Output: `[N, outputs]` keypoints, normalized `(px − 48) / 48`.
 * - Parameters, defaults: 1 285 486 (four blocks 16/32/64/128, 6·6·128 = 4 608 → 256 → 30).
 *
 * Layer names: `conv{b}_{c}`, `bn{b}_{c}`, `relu{b}_{c}`, `pool{b}`, `flatten`, `hidden`, `dropout`,
 * `output`; `copyWeightsExceptOutput` copies them between two such nets (supervised pre-training).
 *
 * @throws {ConfigError} when `filters` is empty, longer than 6 (96 px allows six halvings) or holds a
 *   non-positive integer; `convsPerBlock`, `dense` or `outputs` is not a positive integer; `dropout`
 *   is outside [0, 1); `seed` is not an integer.
 *
 * @example
 * ```ts
 * const model = buildConvNet({ filters: [16, 32, 64, 128], seed: 42 });
 * model.predict(tf.zeros([1, 96, 96, 1])); // Tensor [1, 30]
 * ```
 */
export function buildConvNet(config: ConvNetConfig = {}): tf.Sequential {
  const {
    filters = [16, 32, 64, 128],
    convsPerBlock = 1,
    batchNorm = true,
    dense = 256,
    dropout = 0,
    outputs = 30,
    seed,
    name = 'convnet',
  } = config;
  if (!Array.isArray(filters) || filters.length < 1 || filters.length > 6) {
    throw new ConfigError(`conv net builder: filters must list 1 to 6 block widths, got ${JSON.stringify(filters)}`);
  }
  filters.forEach((f, i) => positiveInteger(`filters[${i}]`, f));
  positiveInteger('convsPerBlock', convsPerBlock);
  positiveInteger('dense', dense);
  positiveInteger('outputs', outputs);
  if (!(dropout >= 0 && dropout < 1)) throw new ConfigError(`conv net builder: dropout must be in [0, 1), got ${dropout}`);
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new ConfigError(`conv net builder: seed must be an integer, got ${seed}`);

  let layerIndex = 0;
  const kernel = () => {
    layerIndex++;
    return tf.initializers.heUniform(seed === undefined ? {} : { seed: seed + layerIndex - 1 });
  };
  const layers: tf.layers.Layer[] = [];
  filters.forEach((f, b) => {
    for (let c = 1; c <= convsPerBlock; c++) {
      const id = `${b + 1}_${c}`;
      layers.push(
        tf.layers.conv2d({
          name: `conv${id}`,
          ...(layers.length === 0 ? { inputShape: [...MODEL_INPUT_SHAPE] } : {}),
          filters: f,
          kernelSize: 3,
          padding: 'same',
          useBias: !batchNorm,
          kernelInitializer: kernel(),
          ...(batchNorm ? {} : { biasInitializer: 'zeros' }),
        }),
      );
      if (batchNorm) layers.push(tf.layers.batchNormalization({ name: `bn${id}`, axis: -1 }));
      layers.push(tf.layers.reLU({ name: `relu${id}` }));
    }
    layers.push(tf.layers.maxPooling2d({ name: `pool${b + 1}`, poolSize: 2, strides: 2, padding: 'valid' }));
  });
  layers.push(tf.layers.flatten({ name: 'flatten' }));
  layers.push(tf.layers.dense({ name: 'hidden', units: dense, activation: 'relu', kernelInitializer: kernel(), biasInitializer: 'zeros' }));
  if (dropout > 0) layers.push(new KeypointsDropout({ name: 'dropout', rate: dropout, ...(seed !== undefined ? { seed } : {}) }));
  layers.push(
    tf.layers.dense({
      name: 'output',
      units: outputs,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + layerIndex }),
      biasInitializer: 'zeros',
    }),
  );
  return tf.sequential({ name, layers });
}

function positiveInteger(what: string, v: unknown): void {
  if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
    throw new ConfigError(`conv net builder: ${what} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}
