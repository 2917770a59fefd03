import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@keypoints/core';
import { NesterovMomentumOptimizer, checkLearningRate } from './nesterov-momentum.optimizer.js';

/**
 * The optimizers a {@link Trainer} can run:
 * - `nesterov`: SGD with Nesterov momentum (Nouri 2014, every `net1` … `net8`; the default);
 * - `adam`: Adam (Kingma & Ba 2015), β1 0.9, β2 0.999, ε 1e-7 (tfjs's);
 * - `adamw`: Adam with decoupled weight decay (Loshchilov & Hutter 2019, "AdamW"): after each Adam
 *   step, every kernel (a weight of rank ≥ 2: convolution and dense kernels, not biases nor
 *   batch-norm scales/offsets) shrinks by `learningRate · weightDecay` of itself.
 */
export const OPTIMIZER_NAMES = ['nesterov', 'adam', 'adamw'] as const;
/** One of {@link OPTIMIZER_NAMES}. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * What the trainer and its callbacks need from an optimizer: a tfjs optimizer whose learning rate
 * can change between steps (schedules), and a momentum that is either settable (Nesterov) or fixed
 * (Adam's β1, reported as the momentum).
 */
export interface TrainingOptimizer extends tf.Optimizer {
  /** The learning rate the next step uses. */
  readonly currentLearningRate: number;
  /** Nesterov: the momentum; Adam/AdamW: β1 (fixed). */
  readonly currentMomentum: number;
  /** @throws {ConfigError} on a learning rate that is not finite and > 0. */
  setLearningRate(learningRate: number): void;
  /** @throws {ConfigError} for Adam/AdamW (β1 is fixed) or a momentum outside [0, 1). */
  setMomentum(momentum: number): void;
}

/** Settings of {@link createOptimizer}. */
export interface OptimizerSettings {
  /** Initial learning rate (> 0). */
  readonly learningRate: number;
  /** Nesterov: initial momentum in [0, 1) (default 0.9); ignored by Adam/AdamW. */
  readonly momentum?: number;
  /** AdamW's decoupled weight decay per unit learning rate (≥ 0, default 1e-4); must be 0/absent for the others. */
  readonly weightDecay?: number;
}

/**
 * Make the optimizer `name` with `settings`.
 * @throws {ConfigError} on an unknown name, a bad learning rate / momentum / weight decay, or a weight
 * decay given to an optimizer other than `adamw`.
 */
export function createOptimizer(name: OptimizerName, settings: OptimizerSettings): TrainingOptimizer {
  const { learningRate, momentum = 0.9, weightDecay } = settings;
  if (weightDecay !== undefined && weightDecay !== 0 && name !== 'adamw') {
    throw new ConfigError(`weight decay is AdamW's (decoupled); optimizer '${name}' does not take one (got ${weightDecay})`);
  }
  switch (name) {
    case 'nesterov':
      return new NesterovMomentumOptimizer(learningRate, momentum);
    case 'adam':
      return new AdamWOptimizer(learningRate, 0);
    case 'adamw':
      return new AdamWOptimizer(learningRate, weightDecay ?? 1e-4);
    default:
      throw new ConfigError(`unknown optimizer '${String(name)}' (expected one of ${OPTIMIZER_NAMES.join(', ')})`);
  }
}

/**
 * Adam with a changeable learning rate and optional decoupled weight decay (AdamW, Loshchilov &
 * Hutter 2019). Weight decay `0` is plain Adam (tfjs's `AdamOptimizer`, β1 0.9, β2 0.999). Its slot
 * variables (first and second moments, the iteration count) are what `getWeights()` returns, so a
 * checkpoint resumes it exactly.
 */
export class AdamWOptimizer extends tf.AdamOptimizer implements TrainingOptimizer {
  /**
   * @param learningRate initial learning rate (> 0), e.g. 1e-3.
   * @param weightDecay decoupled decay per unit learning rate (≥ 0); 0 = Adam.
   * @throws {ConfigError} on a bad learning rate or weight decay.
   */
  constructor(
    learningRate: number,
    readonly weightDecay = 0,
  ) {
    checkLearningRate(learningRate);
    if (!Number.isFinite(weightDecay) || weightDecay < 0) throw new ConfigError(`weight decay must be a finite number ≥ 0, got ${weightDecay}`);
    super(learningRate, 0.9, 0.999);
  }

  get currentLearningRate(): number {
    return this.learningRate;
  }

  get currentMomentum(): number {
    return this.beta1;
  }

  setLearningRate(learningRate: number): void {
    checkLearningRate(learningRate);
    this.learningRate = learningRate;
  }

  setMomentum(momentum: number): void {
    if (momentum === this.beta1) return;
    throw new ConfigError(`Adam's β1 is fixed at ${this.beta1}: a momentum schedule needs optimizer 'nesterov' (got ${momentum})`);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    if (this.weightDecay > 0) {
      // Decoupled decay from the weights before this step (PyTorch's AdamW order): w ← w − lr·wd·w.
      const factor = 1 - this.learningRate * this.weightDecay;
      tf.tidy(() => {
        for (const name of names) {
          const v = tf.engine().registeredVariables[name];
          if (v && v.rank >= 2) v.assign(tf.mul(v, factor));
        }
      });
    }
    super.applyGradients(variableGradients);
  }
}
