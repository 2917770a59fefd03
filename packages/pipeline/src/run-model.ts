import type * as tf from '@tensorflow/tfjs';
import { FULL_KEYPOINT_SET } from '@keypoints/core';
import {
  NOURI_DROPOUT,
  buildCnn,
  buildConvNet,
  buildFullyConnected,
  buildSpecialist,
  cnnModelName,
  copyWeightsExceptOutput,
  modelName,
} from '@keypoints/models';
import type { TrainConfig } from './config.js';
import { keypointSetOf } from './run-config.js';

/**
 * Build the (untrained) model of a config: the modern conv net when the config has `convNet`, fc for
 * net1, Nouri's CNN otherwise, with the output sized to
 * the run's keypoint set; with `pretrained`, every layer but the output starts from that model's
 * weights (supervised pre-training, Nouri 2014).
 *
 * @throws {ConfigError} when `pretrained`'s layers differ in name or shape.
 */
export function buildModel(config: TrainConfig, pretrained?: tf.LayersModel): tf.LayersModel {
  const set = keypointSetOf(config);
  const outputs = set.columns.length;
  let model: tf.LayersModel;
  if (config.convNet) {
    model = buildConvNet({ ...config.convNet, outputs, seed: config.seed, name: set === FULL_KEYPOINT_SET ? config.model : set.name });
    if (pretrained) copyWeightsExceptOutput(pretrained, model);
    return model;
  }
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
    augment: config.flip || config.affine || config.photometric,
    lrDecay: config.learningRateSchedule !== undefined,
    momentumIncrease: config.momentumSchedule !== undefined,
  };
  const net = config.convNet;
  const name = net
    ? modelName({ convLayers: net.filters.length * net.convsPerBlock, hiddenLayers: 1, ...run, dropout: net.dropout > 0 })
    : config.model === 'net1'
      ? modelName({ hiddenLayers: 1, ...run })
      : cnnModelName({ ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}) }, run);
  const tags = [
    net?.batchNorm ? 'bn' : '',
    config.optimizer !== 'nesterov' ? config.optimizer : '',
    config.loss !== 'mse' ? config.loss : '',
    config.keypoints !== 'full' ? config.keypoints : '',
    config.pretrained ? 'pre' : '',
    config.missing === 'mask' ? 'masked' : '',
  ];
  return [name, ...tags.filter(Boolean)].join('_');
}
