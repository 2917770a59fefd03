import { ConfigError } from '@keypoints/core';

/** What a run's name is made of (after Staravoitau 2017's `1fc_b36_e100`-style run names). */
export interface ModelNameConfig {
  /** Convolutional layers; left out of the name when 0. Default 0 (net1). */
  readonly convLayers?: number;
  /** Hidden fully connected layers (net1: 1; net2–net8: 2). */
  readonly hiddenLayers: number;
  /** Mini-batch size (Nouri: 128). */
  readonly batchSize: number;
  /** Maximum number of epochs. */
  readonly epochs: number;
  /** Flip augmentation (`_aug`). */
  readonly augment?: boolean;
  /** Learning-rate schedule, 0.03 → 0.0001 (`_lrdec`). */
  readonly lrDecay?: boolean;
  /** Momentum schedule, 0.9 → 0.999 (`_mominc`). */
  readonly momentumIncrease?: boolean;
  /** Dropout (`_dr`). */
  readonly dropout?: boolean;
}

/**
 * The run name of a model configuration, used as its folder under `runs/`:
 * `[<conv>con_]<fc>fc_b<batch>_e<epochs>[_aug][_lrdec][_mominc][_dr]`, flags always in that
 * order. Only `[0-9a-z_]`, so it is safe as a file name everywhere.
 *
 * @example
 * ```ts
 * modelName({ hiddenLayers: 1, batchSize: 128, epochs: 400 }); // '1fc_b128_e400' (net1)
 * modelName({ convLayers: 3, hiddenLayers: 2, batchSize: 128, epochs: 3000,
 *             augment: true, lrDecay: true, momentumIncrease: true, dropout: true });
 * // '3con_2fc_b128_e3000_aug_lrdec_mominc_dr' (net6)
 * ```
 * @throws {ConfigError} when a count is not an integer (layers ≥ 0, batch size and epochs ≥ 1).
 */
export function modelName(config: ModelNameConfig): string {
  const { convLayers = 0, hiddenLayers, batchSize, epochs } = config;
  integerAtLeast('convLayers', convLayers, 0);
  integerAtLeast('hiddenLayers', hiddenLayers, 0);
  integerAtLeast('batchSize', batchSize, 1);
  integerAtLeast('epochs', epochs, 1);
  const parts = [
    ...(convLayers > 0 ? [`${convLayers}con`] : []),
    `${hiddenLayers}fc`,
    `b${batchSize}`,
    `e${epochs}`,
  ];
  if (config.augment) parts.push('aug');
  if (config.lrDecay) parts.push('lrdec');
  if (config.momentumIncrease) parts.push('mominc');
  if (config.dropout) parts.push('dr');
  return parts.join('_');
}

function integerAtLeast(field: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`model name: ${field} must be an integer ≥ ${min}, got ${value}`);
  }
}
