import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@keypoints/core';
import type { TrainingOptimizer } from './optimizers.js';

/**
 * SGD with Nesterov momentum (Nouri 2014 `update=nesterov_momentum`), a tfjs
 * `MomentumOptimizer` whose learning rate **and momentum** can be changed during training.
 *
 * tfjs 4.22's `MomentumOptimizer.setMomentum` only stores the number: the update keeps
 * using the scalar tensor made in the constructor, so a momentum schedule would silently do
 * nothing. This class replaces that tensor. Update rule (tfjs / Sutskever form):
 * `v ← μ·v + g;  w ← w − lr·(g + μ·v)`.
 */
export class NesterovMomentumOptimizer extends tf.MomentumOptimizer implements TrainingOptimizer {
  private lr: number;
  private mu: number;

  /**
   * @param learningRate default 0.01 (Nouri net1/net2).
   * @param momentum default 0.9.
   * @throws {ConfigError} on a non-positive learning rate or a momentum outside [0, 1).
   */
  constructor(learningRate = 0.01, momentum = 0.9) {
    checkLearningRate(learningRate);
    checkMomentum(momentum);
    super(learningRate, momentum, true);
    this.lr = learningRate;
    this.mu = momentum;
  }

  /** Current learning rate. */
  get currentLearningRate(): number {
    return this.lr;
  }

  /** Current momentum. */
  get currentMomentum(): number {
    return this.mu;
  }

  /** Change the learning rate for the following updates. */
  override setLearningRate(learningRate: number): void {
    checkLearningRate(learningRate);
    this.lr = learningRate;
    super.setLearningRate(learningRate);
  }

  /** Change the momentum for the following updates (really: replaces the scalar tensor). */
  override setMomentum(momentum: number): void {
    checkMomentum(momentum);
    this.mu = momentum;
    super.setMomentum(momentum);
    const self = this as unknown as { m: tf.Scalar };
    const old = self.m;
    self.m = tf.keep(tf.scalar(momentum));
    old.dispose();
  }

  /** Dispose the slot variables and scalars (tfjs's `MomentumOptimizer.dispose` leaks the learning-rate scalar). */
  override dispose(): void {
    super.dispose();
    const self = this as unknown as { c?: tf.Scalar };
    if (self.c && !self.c.isDisposed) self.c.dispose();
  }
}

/** Throws unless `v` is a finite number > 0. */
export function checkLearningRate(v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`learning rate must be a finite number > 0, got ${v}`);
}

function checkMomentum(v: number): void {
  if (!Number.isFinite(v) || v < 0 || v >= 1) throw new ConfigError(`momentum must be in [0, 1), got ${v}`);
}
