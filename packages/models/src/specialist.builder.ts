import type * as tf from '@tensorflow/tfjs';
import { ConfigError, type KeypointSet } from '@keypoints/core';
import { buildCnn, copyWeightsExceptOutput, type CnnConfig } from './cnn.builder.js';

/** Options of {@link buildSpecialist}. */
export interface SpecialistConfig {
  /** The CNN's architecture (padding, dense sizes, dropout, seed); `outputs` and `name` come from the set. Must match `pretrained`'s. */
  readonly cnn?: Omit<CnnConfig, 'outputs' | 'name'>;
  /**
   * A trained CNN (usually of the full 30-column set) whose weights initialise every layer except
   * the output: Nouri 2014's supervised pre-training (kfkd.py `fit_specialists(fname_pretrain)`).
   * Default: none (Glorot-uniform initialisation).
   */
  readonly pretrained?: tf.LayersModel;
}

/**
 * Build a specialist: the CNN of {@link buildCnn} whose `output` layer has `2 × keypoints` units of
 * one keypoint group (e.g. 4 for the eye centres), named after the group, optionally initialised
 * from a trained CNN (every weighted layer but `output`, matched by layer name).
 *
 * - Input: `[N, 96, 96, 1]` float32 in [0, 1]. Output: `[N, keypointSet.columns.length]`,
 *   normalized `(px − 48) / 48`, in the set's column order.
 * - Source: Nouri 2014, kfkd.py `SPECIALIST_SETTINGS` / `fit_specialists` (net7's architecture with
 *   the output resized, `pretrain` weights loaded).
 *
 * @returns the model and the layer names copied from `pretrained` (empty without one).
 * @throws {ConfigError} when `pretrained` lacks a layer of the specialist or its weights differ in
 *   shape (the message names the layer and both shapes), or the CNN options are invalid.
 *
 * @example
 * ```ts
 * const full = await loadModel('runs/net6/model');
 * const eyes = buildSpecialist(SPECIALIST_KEYPOINT_SETS[0], { pretrained: full }); // output [N, 4]
 * ```
 */
export function buildSpecialist(
  keypointSet: KeypointSet,
  config: SpecialistConfig = {},
): { model: tf.Sequential; copiedLayers: string[] } {
  const model = buildCnn({ ...config.cnn, outputs: keypointSet.columns.length, name: keypointSet.name });
  if (config.pretrained === undefined) return { model, copiedLayers: [] };
  try {
    return { model, copiedLayers: copyWeightsExceptOutput(config.pretrained, model) };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * Nouri 2014's default maximum epochs of a specialist, `int(4e6 / rows)` in kfkd.py (here rounded):
 * fewer epochs for groups with many rows, so each specialist sees about 4 million samples.
 *
 * @param rows the specialist's rows after dropping those missing its columns (train + validation,
 *   as in kfkd.py, where `y.shape[0]` is taken before nolearn's split).
 * @throws {ConfigError} when `rows` is not a positive integer.
 */
export function specialistMaxEpochs(rows: number): number {
  if (!Number.isSafeInteger(rows) || rows <= 0) {
    throw new ConfigError(`specialistMaxEpochs: rows must be a positive integer, got ${rows}`);
  }
  return Math.max(1, Math.round(4e6 / rows));
}
