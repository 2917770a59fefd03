import * as tf from '@tensorflow/tfjs';
import { ConfigError, KEYPOINT_SCALE } from '@keypoints/core';

/**
 * The training losses a {@link Trainer} can minimise, all **masked** (a missing target, mask 0,
 * contributes nothing; the mean runs over present targets only):
 * - `mse`: mean squared error of normalized keypoints (Nouri 2014; the default);
 * - `l1`: mean absolute error (robust to outliers; common in landmark regression);
 * - `wing`: Wing loss (Feng et al., "Wing Loss for Robust Facial Landmark Localisation with
 *   Convolutional Neural Networks", CVPR 2018) on errors in **pixels**: `w·ln(1 + |x|/ε)` for
 *   `|x| < w`, else `|x| − C` with `C = w − w·ln(1 + w/ε)`; w = 10 px, ε = 2 px (the paper's).
 *
 * Whatever the loss, the trainer reports the training MSE (`trainLoss`, `trainRmsePx`) so runs with
 * different losses compare in pixels.
 */
export const LOSS_NAMES = ['mse', 'l1', 'wing'] as const;
/** One of {@link LOSS_NAMES}. */
export type LossName = (typeof LOSS_NAMES)[number];

/** A masked loss: `pred`, `y`, `mask` `[N, K]` (normalized units, mask 0/1) → a scalar. */
export type MaskedLoss = (pred: tf.Tensor, y: tf.Tensor, mask: tf.Tensor) => tf.Scalar;

/** Wing loss's width `w` in pixels (Feng et al. 2018). */
export const WING_WIDTH_PX = 10;
/** Wing loss's curvature `ε` in pixels (Feng et al. 2018). */
export const WING_EPSILON_PX = 2;

/**
 * Masked mean squared error: `Σ mask·(pred − y)² / Σ mask` (equals plain MSE when nothing
 * is missing). Normalized units.
 */
export function maskedMse(pred: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const se = tf.mul(tf.squaredDifference(pred, y), mask);
    return tf.div(tf.sum(se), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** Masked mean absolute error, normalized units. */
export function maskedL1(pred: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(tf.abs(tf.sub(pred, y)), mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar);
}

/**
 * Masked Wing loss (Feng et al. 2018) of the errors in pixels (normalized error × 48), averaged over
 * the present targets; in pixels.
 * @param w width in pixels (default 10); @param epsilon curvature in pixels (default 2).
 */
export function maskedWing(w = WING_WIDTH_PX, epsilon = WING_EPSILON_PX): MaskedLoss {
  if (!(w > 0) || !(epsilon > 0)) throw new ConfigError(`wing loss needs w > 0 and ε > 0, got w=${w}, ε=${epsilon}`);
  // w·ln(1 + min(x, w)/ε) + max(x − w, 0): the two branches in one differentiable expression
  // (for x ≥ w it is w·ln(1 + w/ε) + x − w = x − C).
  return (pred, y, mask) =>
    tf.tidy(() => {
      const x = tf.mul(tf.abs(tf.sub(pred, y)), KEYPOINT_SCALE);
      const l = tf.add(tf.mul(tf.log1p(tf.div(tf.minimum(x, w), epsilon)), w), tf.relu(tf.sub(x, w)));
      return tf.div(tf.sum(tf.mul(l, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
    });
}

/**
 * The masked loss called `name`.
 * @throws {ConfigError} on an unknown name.
 */
export function lossByName(name: LossName): MaskedLoss {
  switch (name) {
    case 'mse':
      return maskedMse;
    case 'l1':
      return maskedL1;
    case 'wing':
      return maskedWing();
    default:
      throw new ConfigError(`unknown loss '${String(name)}' (expected one of ${LOSS_NAMES.join(', ')})`);
  }
}
