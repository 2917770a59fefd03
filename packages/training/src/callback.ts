import type * as tf from '@tensorflow/tfjs';
import type { EpochLogs, FitStatus } from './events.js';
import type { TrainingState } from './trainer.js';

/** The hook names a callback may implement; one list, so typos are rejected at registration. */
export const CALLBACK_HOOKS = ['onFitStart', 'onEpochStart', 'onBatchEnd', 'onEpochEnd', 'onFitEnd'] as const;
/** One of {@link CALLBACK_HOOKS}. */
export type CallbackHook = (typeof CALLBACK_HOOKS)[number];

/**
 * Default `order` bands: lower runs first. Schedules change the optimizer before monitors
 * read the epoch; history records the epoch before checkpoints save it; checkpoints run after
 * every state-changing callback; displays last.
 */
export const CALLBACK_ORDER = {
  schedule: 100,
  guard: 150,
  monitor: 200,
  default: 300,
  history: 700,
  checkpoint: 800,
  /** Observers that write artifacts at fit end (JSON-lines logs, learning curve), after early stopping restored the best weights. */
  artifacts: 900,
  display: 950,
} as const;

/**
 * Where a model's current weights come from (see {@link CallbackContext.weightsSource}).
 */
export interface WeightsSource {
  /**
   * 0-based epoch: the weights are those at the end of this epoch (`'partial'`: during it);
   * −1: the weights the fit started from (no epoch trained yet).
   */
  readonly epoch: number;
  /**
   * `last`: the training loop's own, from the latest epoch; `best`: restored by a callback to the
   * epoch with its best monitored value (early stopping); `partial`: mid-epoch (a cancelled fit).
   */
  readonly weights: 'last' | 'best' | 'partial';
}

/**
 * The narrow view of a running fit that callbacks get (the control plane). Only callbacks may
 * change training state, and only through this context.
 */
export interface CallbackContext {
  /** 0-based epoch (during `onFitStart`, the first epoch to run). */
  readonly epoch: number;
  /** Maximum number of epochs of the run. */
  readonly epochs: number;
  /** Whether the fit has a validation set (else `validLoss` is NaN by design). */
  readonly hasValidation: boolean;
  /** Logs of the epoch that just ended (`onEpochEnd`, `onFitEnd` after at least one epoch). */
  readonly logs?: EpochLogs;
  /** Batch index and loss (`onBatchEnd` only). */
  readonly batch?: { readonly index: number; readonly size: number; readonly loss: number };
  /** `onFitEnd` only: how the fit ended. */
  readonly status?: FitStatus;
  /** Current learning rate. */
  readonly learningRate: number;
  /** Current momentum. */
  readonly momentum: number;
  /** Set the learning rate for the following updates. @throws {ConfigError} if not finite and > 0. */
  setLearningRate(value: number): void;
  /** Set the momentum for the following updates. @throws {ConfigError} if not in [0, 1). */
  setMomentum(value: number): void;
  /**
   * Ask the fit to stop after the current epoch. Sticky: it cannot be undone by a later
   * callback. The first reason is kept and reported in `fitEnd.stopReason`.
   */
  requestStop(reason: string): void;
  /** Whether a stop was requested, and why. */
  readonly stopRequested: string | undefined;
  /** Copies of the model's weights (one Float32Array per weight, in `model.weights` order). */
  getWeights(): Float32Array[];
  /**
   * Overwrite the model's weights with values from {@link getWeights}. Say where they come from
   * with `source` (e.g. early stopping: `{ epoch: bestEpoch, weights: 'best' }`), so the figures
   * reported for the model at fit end describe these weights; without it {@link weightsSource}
   * becomes `undefined` (unknown) until the next epoch ends.
   */
  setWeights(values: readonly Float32Array[], source?: WeightsSource): void;
  /**
   * Which weights the model holds now: after an epoch, that epoch's (`weights: 'last'`); during
   * an epoch (or after a fit cancelled mid-epoch), `'partial'` weights of the epoch in progress;
   * after a callback's `setWeights`, the source it gave (`undefined` when it gave none).
   */
  readonly weightsSource: WeightsSource | undefined;
  /** The model being trained (read it, save it; change weights only through `setWeights`). */
  readonly model: tf.LayersModel;
  /**
   * Snapshot of the optimizer and callback states (for checkpoints). In `onEpochEnd` its
   * `epochsCompleted` counts the epoch that just ended.
   */
  getTrainingState(): Promise<TrainingState>;
}

/**
 * A callback plugin: optional async hooks, awaited one after another in ascending `order`.
 * Hooks receive a fresh context per call; they must not keep tensors.
 *
 * @example
 * ```ts
 * const printer: TrainingCallback = {
 *   name: 'printer',
 *   onEpochEnd: (ctx) => console.log(ctx.epoch, ctx.logs?.validRmsePx),
 * };
 * ```
 */
export interface TrainingCallback {
  /**
   * Stable, unique key within a run (duplicates are rejected). It is also how a callback is
   * replaced or removed: a user callback with the name of a default (`history`, `checkpoint`,
   * `progress`, …) replaces that default, and `registerTraining(c, { remove: [name] })` drops it.
   * Checkpoints store callback states under this name.
   */
  readonly name: string;
  /** Lower runs first; see {@link CALLBACK_ORDER}. Default 300. */
  readonly order?: number;
  onFitStart?(ctx: CallbackContext): void | Promise<void>;
  onEpochStart?(ctx: CallbackContext): void | Promise<void>;
  onBatchEnd?(ctx: CallbackContext): void | Promise<void>;
  onEpochEnd?(ctx: CallbackContext): void | Promise<void>;
  onFitEnd?(ctx: CallbackContext): void | Promise<void>;
  /** Saveable state for checkpoints (JSON-serialisable). */
  getState?(): unknown;
  /** Restore a state from {@link getState} (on resume). */
  setState?(state: unknown): void;
}
