import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@keypoints/core';
import { KeypointsDropout } from './dropout.layer.js';
import { MODEL_INPUT_SHAPE } from './fc.builder.js';
import { modelName } from './model-name.js';

/**
 * Dropout rates of the CNN (Nouri 2014, net6+). A rate is the fraction of units **dropped** while
 * training (Lasagne's `p`, tfjs's `rate`), in [0, 1); a rate of 0 or an absent rate adds no layer.
 *
 * Nouri's kfkd.py (net6, net7 and the specialists' net) has `dropout1..3` after the three pooling
 * layers (0.1, 0.2, 0.3) and `dropout4` (0.5) after `hidden4` only; `hidden5` feeds the output
 * directly, with no dropout. `dense2` (a `dropout5` after `hidden5`) is not in Nouri's nets and is
 * offered for experiments only.
 */
export interface CnnDropout {
  /** Rates after `pool1`, `pool2`, `pool3` (layers `dropout1`, `dropout2`, `dropout3`). Nouri: `[0.1, 0.2, 0.3]`. */
  readonly pool?: readonly [number, number, number];
  /** Rate after the first dense layer `hidden4` (layer `dropout4`). Nouri: `0.5`. */
  readonly dense?: number;
  /** Rate after the second dense layer `hidden5` (layer `dropout5`). Not in Nouri's nets; default none. */
  readonly dense2?: number;
}

/** Nouri 2014's dropout (kfkd.py net6, net7, specialists): 0.1 / 0.2 / 0.3 after the pools, 0.5 after `hidden4`. */
export const NOURI_DROPOUT: CnnDropout = Object.freeze({ pool: Object.freeze([0.1, 0.2, 0.3] as const), dense: 0.5 });

/** Options of {@link buildCnn}. */
export interface CnnConfig {
  /**
   * Units of the two hidden dense layers `hidden4`, `hidden5` (ReLU). Default `[500, 500]`
   * (Nouri 2014 net2–net6); net7, net8 and the specialists use `[1000, 1000]`.
   */
  readonly dense?: readonly [number, number];
  /** Linear outputs: 30 for the full keypoint set; fewer for a specialist (2 × its keypoints). Default 30. */
  readonly outputs?: number;
  /**
   * Convolution padding. Default `'valid'` (Lasagne's default `pad=0`, as in Nouri 2014:
   * 96 → 94 → 47 → 46 → 23 → 22 → 11, flatten 11·11·128 = 15 488). `'same'` keeps the size through
   * each convolution: 96 → 48 → 24 → 12, flatten 12·12·128 = 18 432.
   */
  readonly padding?: 'valid' | 'same';
  /** Dropout layers (net6+), see {@link CnnDropout} and {@link NOURI_DROPOUT}. Default: none (net2–net5). */
  readonly dropout?: CnnDropout;
  /**
   * Seed of the Glorot-uniform kernel initialisers: the same seed gives the same weights. The `i`-th
   * layer with weights (1-based: `conv1`, `conv2`, `conv3`, `hidden4`, `hidden5`, `output`) is seeded
   * with `seed + i − 1`. Default: unseeded (different every build). The dropout layers get the same
   * seed: each draws its own mask stream from (seed, layer name), a new mask at every step (unlike a
   * seeded tfjs dropout layer, which draws the **same** mask at every step); see
   * {@link KeypointsDropout} and `reseedDropout`. Unseeded, masks come from a per-process stream.
   */
  readonly seed?: number;
  /** Model name. Default `'cnn'`. */
  readonly name?: string;
}

/** The layers of {@link buildCnn} that hold weights, in order (the names weight copies go by). */
export const CNN_WEIGHT_LAYERS = ['conv1', 'conv2', 'conv3', 'hidden4', 'hidden5', 'output'] as const;

/**
 * Build the convolutional net of Nouri 2014 (net2 … net8, and the specialists' net; Staravoitau 2017's
 * `3con_2fc` model): an uncompiled `tf.Sequential`
 *
 * ```
 * input [N, 96, 96, 1]
 * conv1 32 @ 3×3 ReLU → pool1 2×2 → [dropout1]
 * conv2 64 @ 2×2 ReLU → pool2 2×2 → [dropout2]
 * conv3 128 @ 2×2 ReLU → pool3 2×2 → [dropout3]
 * flatten → hidden4 dense ReLU → [dropout4] → hidden5 dense ReLU → [dropout5] → output dense linear
 * ```
 *
 * Stride-1 convolutions (`'valid'` by default), 2×2 max-pooling with stride 2 that drops an odd last
 * row/column (Lasagne's `ignore_border=True`), Glorot-uniform kernels and zero biases (Lasagne's
 * defaults, which Nouri used). Dropout layers (in brackets) appear only when `dropout` asks for them.
 *
 * - Input: `[N, 96, 96, 1]` float32 in [0, 1] (pixel / 255), NHWC.
 * - Output: `[N, outputs]` keypoints, normalized `(px − 48) / 48` (about [−1, 1]).
 * - Parameters, net2 defaults (valid, 500/500, 30 outputs): 320 + 8 256 + 32 896 + 7 744 500 +
 *   250 500 + 15 030 = **8 051 502**; with `[1000, 1000]` (net7): 16 561 502.
 *
 * Layer names: `conv1`, `pool1`, `dropout1`, `conv2`, `pool2`, `dropout2`, `conv3`, `pool3`,
 * `dropout3`, `flatten`, `hidden4`, `dropout4`, `hidden5`, `dropout5`, `output` (see
 * {@link CNN_WEIGHT_LAYERS}); {@link copyWeightsExceptOutput} copies weights between two such models by
 * name. Weights are created on the current tfjs backend, so initialise one first (`selectBackend`).
 * Dropout is active only when the model is called with `{ training: true }` (as the trainer does).
 *
 * @param config see {@link CnnConfig}; default `{}` (net2).
 * @returns the model (call `dispose()` when done).
 * @throws {ConfigError} when `dense` is not two positive integers, `outputs` is not a positive integer,
 *   `padding` is not `'valid'`/`'same'`, a dropout rate is outside [0, 1) (or `pool` does not hold three),
 *   or `seed` is not an integer.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { buildCnn, NOURI_DROPOUT } from '@keypoints/models';
 * await tf.setBackend('cpu');
 * const net2 = buildCnn({ seed: 42 });
 * net2.predict(tf.zeros([1, 96, 96, 1])); // Tensor [1, 30]
 * const net7 = buildCnn({ dense: [1000, 1000], dropout: NOURI_DROPOUT, seed: 42, name: 'net7' });
 * ```
 */
export function buildCnn(config: CnnConfig = {}): tf.Sequential {
  const { dense = [500, 500], outputs = 30, padding = 'valid', dropout, seed, name = 'cnn' } = config;
  if (!Array.isArray(dense) || dense.length !== 2) {
    throw new ConfigError(`cnn builder: dense must be two layer sizes, e.g. [500, 500], got ${JSON.stringify(dense)}`);
  }
  positiveInteger('dense[0]', dense[0]);
  positiveInteger('dense[1]', dense[1]);
  positiveInteger('outputs', outputs);
  if (padding !== 'valid' && padding !== 'same') {
    throw new ConfigError(`cnn builder: padding must be 'valid' or 'same', got ${JSON.stringify(padding)}`);
  }
  if (seed !== undefined && !Number.isSafeInteger(seed)) {
    throw new ConfigError(`cnn builder: seed must be an integer, got ${seed}`);
  }
  const rates = dropoutRates(dropout);

  const kernel = (layer: number) =>
    tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + layer - 1 });
  const layers: tf.layers.Layer[] = [];
  const addDropout = (index: number, rate: number) => {
    if (rate > 0) layers.push(new KeypointsDropout({ name: `dropout${index}`, rate, ...(seed !== undefined ? { seed } : {}) }));
  };
  const convs: Array<[number, number]> = [
    [32, 3],
    [64, 2],
    [128, 2],
  ];
  convs.forEach(([filters, size], i) => {
    layers.push(
      tf.layers.conv2d({
        name: `conv${i + 1}`,
        ...(i === 0 ? { inputShape: [...MODEL_INPUT_SHAPE] } : {}),
        filters,
        kernelSize: size,
        strides: 1,
        padding,
        activation: 'relu',
        kernelInitializer: kernel(i + 1),
        biasInitializer: 'zeros',
      }),
      tf.layers.maxPooling2d({ name: `pool${i + 1}`, poolSize: 2, strides: 2, padding: 'valid' }),
    );
    addDropout(i + 1, rates[i]);
  });
  layers.push(tf.layers.flatten({ name: 'flatten' }));
  dense.forEach((units, i) => {
    layers.push(
      tf.layers.dense({
        name: `hidden${i + 4}`,
        units,
        activation: 'relu',
        kernelInitializer: kernel(i + 4),
        biasInitializer: 'zeros',
      }),
    );
    addDropout(i + 4, rates[i + 3]);
  });
  layers.push(
    tf.layers.dense({
      name: 'output',
      units: outputs,
      activation: 'linear',
      kernelInitializer: kernel(6),
      biasInitializer: 'zeros',
    }),
  );
  return tf.sequential({ name, layers });
}

/** Run-naming flags of a CNN run that the builder's config does not know (see {@link cnnModelName}). */
export interface CnnRunNaming {
  /** Mini-batch size (Nouri: 128). */
  readonly batchSize: number;
  /** Maximum number of epochs. */
  readonly epochs: number;
  /** Flip augmentation (`_aug`). */
  readonly augment?: boolean;
  /** Learning-rate schedule 0.03 → 0.0001 (`_lrdec`). */
  readonly lrDecay?: boolean;
  /** Momentum schedule 0.9 → 0.999 (`_mominc`). */
  readonly momentumIncrease?: boolean;
}

/**
 * The run name of a CNN from {@link buildCnn}'s config and the run's training flags, through `modelName`:
 * `3con_2fc_b<batch>_e<epochs>[_aug][_lrdec][_mominc][_dr]`, `_dr` when any dropout rate is above 0.
 * The dense sizes are not part of the name (Staravoitau's names do not carry them either): give net7-style
 * `[1000, 1000]` runs a distinct epoch count or folder if they must sit beside a 500/500 run.
 *
 * @example
 * ```ts
 * cnnModelName({ dropout: NOURI_DROPOUT },
 *   { batchSize: 128, epochs: 1000, augment: true, lrDecay: true, momentumIncrease: true });
 * // '3con_2fc_b128_e1000_aug_lrdec_mominc_dr'
 * ```
 * @throws {ConfigError} when a count is not an integer in range, or a dropout rate is invalid.
 */
export function cnnModelName(config: CnnConfig, run: CnnRunNaming): string {
  return modelName({
    convLayers: 3,
    hiddenLayers: 2,
    batchSize: run.batchSize,
    epochs: run.epochs,
    augment: run.augment,
    lrDecay: run.lrDecay,
    momentumIncrease: run.momentumIncrease,
    dropout: dropoutRates(config.dropout).some((r) => r > 0),
  });
}

/**
 * Copy the weights of every layer of `to` that has weights, except the layer named `output`, from the
 * layer of the same name in `from` (Nouri 2014's supervised pre-training of the specialists,
 * nolearn's `load_params_from`: start from a trained full-set CNN, keep the new output layer's fresh
 * weights). Values are copied, not shared: later training of either model leaves the other unchanged.
 * Layers without weights (pooling, dropout, flatten) are skipped, so a model with dropout can be
 * initialised from one without.
 *
 * Stricter than nolearn (which silently skips mismatches): every weighted non-output layer of `to` must
 * exist in `from` with the same weight shapes.
 *
 * @param from the trained source model (e.g. a full-set `buildCnn` model with 30 outputs).
 * @param to the model to initialise (e.g. a specialist with `outputs: 4`); changed in place.
 * @returns the names of the layers copied, in `to`'s order.
 * @throws {ConfigError} when a weighted layer of `to` (other than `output`) is missing from `from`, or its
 *   weights differ in number or shape (the message names the layer and both shapes).
 *
 * @example
 * ```ts
 * const full = buildCnn({ dense: [1000, 1000], dropout: NOURI_DROPOUT }); // … trained
 * const eyes = buildCnn({ dense: [1000, 1000], dropout: NOURI_DROPOUT, outputs: 4, name: 'eye_center' });
 * copyWeightsExceptOutput(full, eyes); // ['conv1', 'conv2', 'conv3', 'hidden4', 'hidden5']
 * ```
 */
export function copyWeightsExceptOutput(from: tf.LayersModel, to: tf.LayersModel): string[] {
  const copies: Array<{ layer: tf.layers.Layer; weights: tf.Tensor[] }> = [];
  for (const target of to.layers) {
    if (target.name === 'output' || target.weights.length === 0) continue;
    const source = from.layers.find((l) => l.name === target.name);
    if (source === undefined) {
      throw new ConfigError(
        `copyWeightsExceptOutput: layer '${target.name}' of model '${to.name}' has no layer of that name in ` +
          `model '${from.name}' (its layers: ${from.layers.map((l) => l.name).join(', ')})`,
      );
    }
    const shapes = (layer: tf.layers.Layer) => layer.weights.map((w) => JSON.stringify(w.shape)).join(', ');
    if (shapes(source) !== shapes(target)) {
      throw new ConfigError(
        `copyWeightsExceptOutput: layer '${target.name}' has weights [${shapes(target)}] in model '${to.name}' but ` +
          `[${shapes(source)}] in model '${from.name}'; build both with the same padding and dense sizes`,
      );
    }
    copies.push({ layer: target, weights: source.getWeights() });
  }
  // Check everything first, then write: a mismatch leaves `to` unchanged.
  for (const { layer, weights } of copies) layer.setWeights(weights);
  return copies.map((c) => c.layer.name);
}

/** `[pool1, pool2, pool3, hidden4, hidden5]` dropout rates (0 = no layer), validated. */
function dropoutRates(dropout: CnnDropout | undefined): [number, number, number, number, number] {
  if (dropout === undefined) return [0, 0, 0, 0, 0];
  const { pool = [0, 0, 0], dense = 0, dense2 = 0 } = dropout;
  if (!Array.isArray(pool) || pool.length !== 3) {
    throw new ConfigError(`cnn builder: dropout.pool must hold 3 rates (after pool1..pool3), got ${JSON.stringify(pool)}`);
  }
  const rates: [number, number, number, number, number] = [pool[0], pool[1], pool[2], dense, dense2];
  const fields = ['dropout.pool[0]', 'dropout.pool[1]', 'dropout.pool[2]', 'dropout.dense', 'dropout.dense2'];
  rates.forEach((rate, i) => {
    if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
      throw new ConfigError(`cnn builder: ${fields[i]} must be a rate in [0, 1), got ${String(rate)}`);
    }
  });
  return rates;
}

function positiveInteger(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(`cnn builder: ${field} must be a positive integer, got ${value}`);
  }
}
