import * as tf from '@tensorflow/tfjs';
import { Observable } from 'rxjs';
import {
  CALLBACKS,
  CLOCK,
  ConfigError,
  KeypointsError,
  TRAINER_OPTIONS,
  inject,
  injectAll,
  injectable,
  rmsePixelsFromMse,
  type Clock,
} from '@keypoints/core';
import type { CallbackContext, TrainingCallback } from './callback.js';
import { CallbackRunner } from './callback-runner.js';
import type { EpochLogs, FitStatus, TrainingEvent } from './events.js';
import { NesterovMomentumOptimizer } from './nesterov-momentum.optimizer.js';

/** One training mini-batch as plain typed arrays (structurally `@keypoints/data`'s `Batch`). */
export interface TrainingBatch {
  readonly size: number;
  /** `[size, 96, 96, 1]` float32 in [0, 1]. */
  readonly images: Float32Array;
  /** `[size, K]` float32 normalized `(px − 48) / 48`. */
  readonly targets: Float32Array;
  /** `[size, K]` float32 0/1 (1 = target present). */
  readonly mask: Float32Array;
}

/** Where training batches come from (structurally `@keypoints/data`'s `BatchIterator`). */
export interface BatchSource {
  readonly batchesPerEpoch: number;
  /** Number of training samples per epoch. */
  readonly count: number;
  /** The batches of epoch `epoch` (0-based); the order may depend only on the seed and `epoch`. */
  epoch(epoch: number): Iterable<TrainingBatch>;
}

/** A held-out set (structurally `@keypoints/data`'s `Dataset`). */
export interface ValidationSet {
  readonly count: number;
  /** `[count, 96, 96, 1]` float32 in [0, 1]. */
  readonly images: Float32Array;
  /** `[count, K]` normalized. */
  readonly targets: Float32Array;
  /** `[count, K]` 0/1. */
  readonly mask: Float32Array;
}

/** Optimizer and loop settings. Defaults are Nouri 2014's net1/net2. */
export interface TrainerOptions {
  /** Initial learning rate; default 0.01. */
  readonly learningRate?: number;
  /** Initial Nesterov momentum; default 0.9. */
  readonly momentum?: number;
  /** Batch size used for validation forward passes; default 256 (does not change results). */
  readonly evalBatchSize?: number;
}

/** Per-fit options. */
export interface FitOptions {
  /** Maximum number of epochs (Nouri net1: 400). */
  readonly epochs: number;
  /** First epoch to run (for resuming); default 0. */
  readonly initialEpoch?: number;
  /** Cancels the fit (like unsubscribing): it ends with `fitEnd { status: 'cancelled' }`. */
  readonly signal?: AbortSignal;
  /** Emit `batchEnd` events (one per batch); default true. */
  readonly batchEvents?: boolean;
  /**
   * Continue a run from a checkpointed state (optimizer slots, learning rate, momentum,
   * callback states); its `epochsCompleted` becomes the initial epoch. The model's weights must
   * already be loaded.
   */
  readonly resume?: TrainingState;
}

/**
 * Everything beyond the model weights needed to continue a fit exactly: the number of completed
 * epochs, the optimizer's learning rate, momentum and slot variables (Nesterov velocities), and the
 * saveable states of the callbacks (history, early stopping, …). Written by checkpoints.
 */
export interface TrainingState {
  readonly epochsCompleted: number;
  readonly learningRate: number;
  readonly momentum: number;
  /** Optimizer variables encoded with `tf.io.encodeWeights`. */
  readonly optimizer: { readonly specs: tf.io.WeightsManifestEntry[]; readonly data: ArrayBuffer };
  readonly callbacks: Record<string, unknown>;
}

async function captureState(
  optimizer: NesterovMomentumOptimizer,
  runner: CallbackRunner,
  epochsCompleted: number,
): Promise<TrainingState> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  return {
    epochsCompleted,
    learningRate: optimizer.currentLearningRate,
    momentum: optimizer.currentMomentum,
    optimizer: { specs, data },
    callbacks: runner.getStates(),
  };
}

async function restoreState(optimizer: NesterovMomentumOptimizer, runner: CallbackRunner, state: TrainingState): Promise<void> {
  optimizer.setLearningRate(state.learningRate);
  optimizer.setMomentum(state.momentum);
  const decoded = tf.io.decodeWeights(state.optimizer.data, state.optimizer.specs);
  const named = state.optimizer.specs.map((s) => ({ name: s.name, tensor: decoded[s.name] }));
  await optimizer.setWeights(named);
  tf.dispose(Object.values(decoded));
  runner.setStates(state.callbacks);
}

/**
 * The training loop: SGD with Nesterov momentum on the mean squared error of normalized
 * keypoints (masked: missing targets contribute nothing), Nouri 2014 / Staravoitau 2017.
 *
 * `fit()` returns a cold `Observable<TrainingEvent>`: subscribing starts the fit, unsubscribing
 * cancels it cleanly (the current batch finishes, tensors are disposed). Callbacks (the
 * control plane) run ordered and awaited before the matching event is emitted.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ learningRate: 0.01, momentum: 0.9 }, [new HistoryCallback()]);
 * trainer.fit(model, batches, validation, { epochs: 400 }).subscribe((e) => console.log(e.type));
 * ```
 */
@injectable()
export class Trainer {
  private readonly options: Required<TrainerOptions>;
  private busy = false;

  constructor(
    @inject(TRAINER_OPTIONS) options: TrainerOptions,
    @injectAll(CALLBACKS) private readonly callbacks: TrainingCallback[],
    @inject(CLOCK) private readonly clock: Clock = { now: () => performance.now() },
  ) {
    this.options = { learningRate: 0.01, momentum: 0.9, evalBatchSize: 256, ...options };
    if (!Number.isInteger(this.options.evalBatchSize) || this.options.evalBatchSize < 1) {
      throw new ConfigError(`evalBatchSize must be a positive integer, got ${this.options.evalBatchSize}`);
    }
    // Validate early (constructors fail on bad options).
    new NesterovMomentumOptimizer(this.options.learningRate, this.options.momentum).dispose();
    new CallbackRunner(this.callbacks);
  }

  /** The callbacks of this trainer, in run order, per hook (for `--explain`-style output). */
  describeCallbacks(): string {
    return new CallbackRunner(this.callbacks).describe();
  }

  /**
   * Train `model` (output `[N, K]`, K = targets per sample) on `train`, validating on `validation`
   * after each epoch.
   *
   * @throws {KeypointsError} `TRAINING_BUSY` (on the error channel) if this trainer is already fitting.
   */
  fit(
    model: tf.LayersModel,
    train: BatchSource,
    validation: ValidationSet | undefined,
    options: FitOptions,
  ): Observable<TrainingEvent> {
    return new Observable<TrainingEvent>((subscriber) => {
      const abort = new AbortController();
      const onOuterAbort = () => abort.abort(options.signal?.reason ?? 'aborted');
      options.signal?.addEventListener('abort', onOuterAbort);
      if (options.signal?.aborted) onOuterAbort();
      const emit = (e: TrainingEvent) => {
        if (!subscriber.closed) subscriber.next(Object.freeze(e));
      };
      this.run(model, train, validation, options, abort.signal, emit).then(
        () => subscriber.complete(),
        (err) => subscriber.error(err),
      );
      return () => {
        options.signal?.removeEventListener('abort', onOuterAbort);
        abort.abort('unsubscribed');
      };
    });
  }

  private async run(
    model: tf.LayersModel,
    train: BatchSource,
    validation: ValidationSet | undefined,
    options: FitOptions,
    signal: AbortSignal,
    emit: (e: TrainingEvent) => void,
  ): Promise<void> {
    if (this.busy) throw new KeypointsError('TRAINING_BUSY', 'this Trainer is already running a fit');
    if (!Number.isInteger(options.epochs) || options.epochs < 1) {
      throw new ConfigError(`epochs must be a positive integer, got ${options.epochs}`);
    }
    const initialEpoch = options.resume?.epochsCompleted ?? options.initialEpoch ?? 0;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch > options.epochs) {
      throw new ConfigError(`initialEpoch must be an integer in [0, ${options.epochs}], got ${initialEpoch}`);
    }
    this.busy = true;
    const runner = new CallbackRunner(this.callbacks);
    const optimizer = new NesterovMomentumOptimizer(this.options.learningRate, this.options.momentum);
    const t0 = this.clock.now();
    let stopReason: string | undefined;
    let epoch = initialEpoch;
    let lastLogs: EpochLogs | undefined;
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const batchEvents = options.batchEvents ?? true;
    const needBatchLoss = batchEvents || runner.has('onBatchEnd');

    if (options.resume) {
      await restoreState(optimizer, runner, options.resume);
    }
    const ctx = (
      extra: Partial<Pick<CallbackContext, 'logs' | 'batch' | 'status'>> = {},
      atEpoch = epoch,
    ): CallbackContext => ({
      model,
      getTrainingState: () => captureState(optimizer, runner, atEpoch + (extra.logs ? 1 : 0)),
      epoch: atEpoch,
      epochs: options.epochs,
      hasValidation: validation !== undefined && validation.count > 0,
      learningRate: optimizer.currentLearningRate,
      momentum: optimizer.currentMomentum,
      setLearningRate: (v) => optimizer.setLearningRate(v),
      setMomentum: (v) => optimizer.setMomentum(v),
      requestStop: (reason) => {
        stopReason ??= reason;
      },
      get stopRequested() {
        return stopReason;
      },
      getWeights: () => model.weights.map((w) => w.read().dataSync().slice() as Float32Array),
      setWeights: (values) => {
        if (values.length !== model.weights.length) {
          throw new ConfigError(`setWeights: expected ${model.weights.length} arrays, got ${values.length}`);
        }
        tf.tidy(() => model.weights.forEach((w, i) => w.write(tf.tensor(values[i], w.shape as number[]))));
      },
      ...extra,
    });

    let status: FitStatus = 'completed';
    try {
      await runner.run('onFitStart', ctx());
      emit({
        type: 'fitStart',
        epochs: options.epochs,
        initialEpoch,
        batchesPerEpoch: train.batchesPerEpoch,
        trainCount: train.count,
        validationCount: validation?.count ?? 0,
        parameters: model.countParams(),
      });
      const inputShape = model.inputs[0].shape.slice(1) as number[];
      const outputs = model.outputs[0].shape[1] as number;

      for (; epoch < options.epochs; ) {
        if (signal.aborted) break;
        const te = this.clock.now();
        await runner.run('onEpochStart', ctx());
        emit({ type: 'epochStart', epoch });
        const learningRate = optimizer.currentLearningRate;
        const momentum = optimizer.currentMomentum;
        let lossSum = 0;
        let seen = 0;
        let lossTensor: tf.Scalar | undefined;
        let b = 0;
        for (const batch of train.epoch(epoch)) {
          if (signal.aborted) break;
          const cost = tf.tidy(() => {
            const x = tf.tensor(batch.images, [batch.size, ...inputShape]);
            const y = tf.tensor2d(batch.targets, [batch.size, outputs]);
            const m = tf.tensor2d(batch.mask, [batch.size, outputs]);
            return optimizer.minimize(() => maskedMse(model.apply(x, { training: true }) as tf.Tensor, y, m), true, variables)!;
          });
          // Weighted running sum kept on the device; read once per epoch unless per-batch values are needed.
          const previous = lossTensor;
          lossTensor = tf.tidy(() => (previous ? previous.add(cost.mul(batch.size)) : cost.mul(batch.size)) as tf.Scalar);
          previous?.dispose();
          seen += batch.size;
          if (needBatchLoss) {
            const loss = (await cost.data())[0];
            await runner.run('onBatchEnd', ctx({ batch: { index: b, size: batch.size, loss } }));
            if (batchEvents) emit({ type: 'batchEnd', epoch, batch: b, size: batch.size, loss });
          }
          cost.dispose();
          b++;
        }
        if (lossTensor) {
          lossSum = (await lossTensor.data())[0];
          lossTensor.dispose();
        }
        if (signal.aborted) break;
        const trainLoss = lossSum / Math.max(seen, 1);
        const validLoss = validation ? await evaluateMse(model, validation, this.options.evalBatchSize) : NaN;
        lastLogs = Object.freeze({
          trainLoss,
          trainRmsePx: rmsePixelsFromMse(trainLoss),
          validLoss,
          validRmsePx: rmsePixelsFromMse(validLoss),
          learningRate,
          momentum,
          durationMs: this.clock.now() - te,
        });
        epoch++;
        // Callbacks see the 0-based index of the epoch that just ended.
        await runner.run('onEpochEnd', ctx({ logs: lastLogs }, epoch - 1));
        emit({ type: 'epochEnd', epoch: epoch - 1, logs: lastLogs });
        if (!Number.isFinite(trainLoss)) {
          stopReason ??= `training loss is ${trainLoss} at epoch ${epoch - 1}`;
        }
        if (stopReason !== undefined) break;
      }
      if (signal.aborted) {
        status = 'cancelled';
        stopReason ??= String(signal.reason ?? 'cancelled');
      } else if (stopReason !== undefined) {
        status = 'stopped';
      }
      await runner.run('onFitEnd', ctx({ logs: lastLogs, status }, epoch - 1));
      emit({
        type: 'fitEnd',
        status,
        ...(stopReason !== undefined ? { stopReason } : {}),
        epochsCompleted: epoch,
        durationMs: this.clock.now() - t0,
      });
    } finally {
      optimizer.dispose();
      this.busy = false;
    }
  }
}

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

/**
 * MSE (normalized units, masked) of `model` on a dataset, computed in batches without
 * training-mode layers (dropout off).
 */
export async function evaluateMse(model: tf.LayersModel, data: ValidationSet, batchSize = 256): Promise<number> {
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  const perImage = inputShape.reduce((a, b) => a * b, 1);
  const k = model.outputs[0].shape[1] as number;
  let se = 0;
  let n = 0;
  for (let start = 0; start < data.count; start += batchSize) {
    const size = Math.min(batchSize, data.count - start);
    const [s, c] = tf.tidy(() => {
      const x = tf.tensor(data.images.subarray(start * perImage, (start + size) * perImage), [size, ...inputShape]);
      const y = tf.tensor2d(data.targets.subarray(start * k, (start + size) * k), [size, k]);
      const m = tf.tensor2d(data.mask.subarray(start * k, (start + size) * k), [size, k]);
      const pred = model.predict(x) as tf.Tensor;
      return [tf.sum(tf.mul(tf.squaredDifference(pred, y), m)), tf.sum(m)];
    });
    se += (await s.data())[0];
    n += (await c.data())[0];
    s.dispose();
    c.dispose();
  }
  return n > 0 ? se / n : NaN;
}
