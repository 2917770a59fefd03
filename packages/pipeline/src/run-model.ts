import type * as tf from '@tensorflow/tfjs';
import { FULL_KEYPOINT_SET } from '@keypoints/core';
import {
  NOURI_DROPOUT,
  buildCnn,
  buildFullyConnected,
  buildSpecialist,
  cnnModelName,
  copyWeightsExceptOutput,
  modelName,
} from '@keypoints/models';
import type { TrainConfig } from './config.js';
import { keypointSetOf } from './run-config.js';

/**
 * Build the (untrained) model of a config: fc for net1, the CNN otherwise, with the output sized to
 * the run's keypoint set; with `pretrained`, every layer but the output starts from that model's
 * weights (supervised pre-training, Nouri 2014).
 *
 * @throws {ConfigError} when `pretrained`'s layers differ in name or shape.
 */
export function buildModel(config: TrainConfig, pretrained?: tf.LayersModel): tf.LayersModel {
  const set = keypointSetOf(config);
  const outputs = set.columns.length;
  let model: tf.LayersModel;
  if (config.model === 'net1') {
    model = buildFullyConnected({ hidden: 100, outputs, seed: config.seed });
    if (pretrained) copyWeightsExceptOutput(pretrained, model);
    return model;
  }
  const cnn = {
    seed: config.seed,
    padding: config.padding,
    ...(config.dense ? { dense: config.dense } : {}),
    ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}),
  };
  if (set !== FULL_KEYPOINT_SET || pretrained) return buildSpecialist(set, { cnn, ...(pretrained ? { pretrained } : {}) }).model;
  return buildCnn({ ...cnn, outputs, name: config.model });
}

/** A descriptive model name in Staravoitau's style, e.g. `3con_2fc_b128_e1000_aug_lrdec_mominc_dr`. */
export function describeModel(config: TrainConfig): string {
  const run = {
    batchSize: config.batchSize,
    epochs: config.epochs,
    augment: config.flip || config.affine,
    lrDecay: config.learningRateSchedule !== undefined,
    momentumIncrease: config.momentumSchedule !== undefined,
  };
  const name =
    config.model === 'net1'
      ? modelName({ hiddenLayers: 1, ...run })
      : cnnModelName({ ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}) }, run);
  const tags = [config.keypoints !== 'full' ? config.keypoints : '', config.pretrained ? 'pre' : '', config.missing === 'mask' ? 'masked' : ''];
  return [name, ...tags.filter(Boolean)].join('_');
}
