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
import type { CallbackContext, TrainingCallback, WeightsSource } from './callback.js';
import { CallbackRunner } from './callback-runner.js';
import { mergeCallbacks } from './callback-set.js';
import { DEFAULT_CALLBACKS, REMOVED_CALLBACKS } from './tokens.js';
import type { EpochLogs, FitStatus, TrainingEvent } from './events.js';
import { createOptimizer, type OptimizerName, type TrainingOptimizer } from './optimizers.js';
import { lossByName, maskedMse, type LossName } from './losses.js';

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
  /** Optimizer (see `OPTIMIZER_NAMES`); default `nesterov` (SGD with Nesterov momentum, Nouri 2014). */
  readonly optimizer?: OptimizerName;
  /** Initial learning rate; default 0.01. */
  readonly learningRate?: number;
  /** Initial Nesterov momentum; default 0.9 (ignored by Adam/AdamW). */
  readonly momentum?: number;
  /** AdamW's decoupled weight decay (default 1e-4 with `adamw`; not allowed with the others). */
  readonly weightDecay?: number;
  /**
   * The loss minimised (see `LOSS_NAMES`): `mse` (default, Nouri 2014), `l1`, or `wing` (Feng et al.
   * 2018). Reported training and validation figures are MSE / RMSE in pixels whatever the loss.
   */
  readonly loss?: LossName;
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

/**
 * Capture the state to checkpoint after an epoch. Leaves no tensor behind: tfjs's
 * `optimizer.getWeights()` returns the optimizer's own slot variables (kept) plus a freshly made
 * `iter` scalar (the iteration counter) that nobody owns — it is disposed here once encoded,
 * else every checkpointed epoch would leak one tensor.
 */
async function captureState(
  optimizer: TrainingOptimizer,
  runner: CallbackRunner,
  epochsCompleted: number,
): Promise<TrainingState> {
  const named = await optimizer.getWeights();
  let encoded: Awaited<ReturnType<typeof tf.io.encodeWeights>>;
  try {
    encoded = await tf.io.encodeWeights(named);
  } finally {
    // Dispose what getWeights made (not a variable the optimizer owns).
    for (const { tensor } of named) if (!(tensor instanceof tf.Variable) && !tensor.isDisposed) tensor.dispose();
  }
  const { data, specs } = encoded;
  return {
    epochsCompleted,
    learningRate: optimizer.currentLearningRate,
    momentum: optimizer.currentMomentum,
    optimizer: { specs, data },
    callbacks: runner.getStates(),
  };
}

async function restoreState(optimizer: TrainingOptimizer, runner: CallbackRunner, state: TrainingState): Promise<void> {
  optimizer.setLearningRate(state.learningRate);
  if (state.momentum !== optimizer.currentMomentum) optimizer.setMomentum(state.momentum);
  const decoded = tf.io.decodeWeights(state.optimizer.data, state.optimizer.specs);
  const named = state.optimizer.specs.map((s) => ({ name: s.name, tensor: decoded[s.name] }));
  await optimizer.setWeights(named);
  tf.dispose(Object.values(decoded));
  runner.setStates(state.callbacks);
}

/** The mutable state of one fit, shared by the step methods of {@link Trainer}. */
interface FitState {
  readonly model: tf.LayersModel;
  readonly train: BatchSource;
  readonly validation: ValidationSet | undefined;
  readonly options: FitOptions;
  readonly signal: AbortSignal;
  readonly emit: (e: TrainingEvent) => void;
  readonly runner: CallbackRunner;
  readonly optimizer: TrainingOptimizer;
  readonly loss: (pred: tf.Tensor, y: tf.Tensor, mask: tf.Tensor) => tf.Scalar;
  readonly variables: tf.Variable[];
  readonly batchEvents: boolean;
  /** Read each batch's loss (for `batchEnd` events or `onBatchEnd` hooks). */
  readonly needBatchLoss: boolean;
  readonly inputShape: number[];
  readonly outputs: number;
  /** Next epoch to run (0-based); after the loop, the number of completed epochs. */
  epoch: number;
  stopReason: string | undefined;
  lastLogs: EpochLogs | undefined;
  /** Which weights the model holds (see `CallbackContext.weightsSource`). */
  weightsSource: WeightsSource | undefined;
}

/**
 * The training loop: by default SGD with Nesterov momentum on the mean squared error of normalized
 * keypoints (masked: missing targets contribute nothing), Nouri 2014 / Staravoitau 2017; `options`
 * may choose Adam / AdamW and an L1 or Wing loss instead (`TrainerOptions`).
 *
 * Callbacks (the control plane) run ordered and awaited before the matching event is emitted.
 * Through DI ({@link registerTraining}) the trainer gets the run's callbacks by name: defaults
 * (`DEFAULT_CALLBACKS`), the user's (`CALLBACKS`, replacing a default of the same name) minus the
 * removed names (`REMOVED_CALLBACKS`); any of the three may be empty.
 *
 * **`fit()` is cold**: it returns an `Observable<TrainingEvent>` and nothing happens until it is
 * subscribed; EACH subscription starts its own fit. A trainer runs one fit at a time, so a second
 * subscription while the first fit runs fails with `TRAINING_BUSY` on its error channel (the first
 * fit continues). To let several observers watch ONE fit, multicast it with rxjs `share()` and
 * subscribe every observer before the first event (events start after `onFitStart`, asynchronously,
 * so observers subscribed in the same synchronous block see them all). `share()` is ref-counted:
 * when the last observer unsubscribes the fit is cancelled (`fitEnd { status: 'cancelled' }`).
 * Do not use `shareReplay` without `refCount: true` (it would keep the fit running with no observer).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({ learningRate: 0.01, momentum: 0.9 }, [new HistoryCallback()]);
 * const fit$ = trainer.fit(model, batches, validation, { epochs: 400 }).pipe(share());
 * fit$.pipe(filter((e) => e.type === 'epochEnd')).subscribe((e) => console.log(e.epoch, e.logs.validRmsePx));
 * await lastValueFrom(fit$); // the same fit: resolves with its fitEnd event
 * ```
 */
@injectable()
export class Trainer {
  private readonly options: Required<Omit<TrainerOptions, 'weightDecay'>> & Pick<TrainerOptions, 'weightDecay'>;
  private readonly callbacks: readonly TrainingCallback[];
  private busy = false;

  /**
   * @param options optimizer settings (defaults: learning rate 0.01, momentum 0.9, evalBatchSize 256).
   * @param callbacks the user's callbacks (through DI: everything registered under `CALLBACKS`; none is fine).
   * @param clock time source for `durationMs` (milliseconds).
   * @param defaults default callbacks (DI: `DEFAULT_CALLBACKS`); a user callback with the same name replaces one.
   * @param remove names of defaults to leave out (DI: `REMOVED_CALLBACKS`).
   * @throws {ConfigError} on invalid options, duplicate callback names, a removal that names no
   * default, or a misspelt hook (the message lists the valid hooks).
   */
  constructor(
    @inject(TRAINER_OPTIONS) options: TrainerOptions,
    @injectAll(CALLBACKS, { isOptional: true }) callbacks: readonly TrainingCallback[] = [],
    @inject(CLOCK) private readonly clock: Clock = { now: () => performance.now() },
    @injectAll(DEFAULT_CALLBACKS, { isOptional: true }) defaults: readonly TrainingCallback[] = [],
    @injectAll(REMOVED_CALLBACKS, { isOptional: true }) remove: readonly string[] = [],
  ) {
    this.options = { optimizer: 'nesterov', loss: 'mse', learningRate: 0.01, momentum: 0.9, evalBatchSize: 256, ...options };
    if (!Number.isInteger(this.options.evalBatchSize) || this.options.evalBatchSize < 1) {
      throw new ConfigError(`evalBatchSize must be a positive integer, got ${this.options.evalBatchSize}`);
    }
    // Validate early (constructors fail on bad options).
    this.newOptimizer().dispose();
    lossByName(this.options.loss);
    this.callbacks = mergeCallbacks({ defaults, callbacks, remove });
    new CallbackRunner(this.callbacks);
  }

  private newOptimizer(): TrainingOptimizer {
    const { optimizer, learningRate, momentum, weightDecay } = this.options;
    return createOptimizer(optimizer, { learningRate, momentum, ...(weightDecay !== undefined ? { weightDecay } : {}) });
  }

  /** The callbacks of this trainer, in run order, per hook (for `--explain`-style output). */
  describeCallbacks(): string {
    return new CallbackRunner(this.callbacks).describe();
  }

  /** The names of this trainer's callbacks, in run order (ascending `order`). */
  get callbackNames(): string[] {
    return new CallbackRunner(this.callbacks).callbacks.map((c) => c.name);
  }

  /**
   * Train `model` (input `[N, 96, 96, 1]` or any shape the batches match, output `[N, K]`,
   * K = targets per sample) on `train`, validating on `validation` after each epoch.
   *
   * Cold: each subscription starts a fit (see the class notes for `share()`); unsubscribing or
   * aborting `options.signal` cancels it cleanly (the current batch finishes, tensors are disposed,
   * `onFitEnd` runs with status `cancelled`).
   *
   * @returns the event stream: `fitStart`, per epoch `epochStart`, `batchEnd`s, `epochEnd`, then
   * exactly one `fitEnd`, then completion. Payloads are frozen and hold numbers only.
   * @throws {KeypointsError} `TRAINING_BUSY` (on the error channel) if this trainer is already fitting;
   * {@link ConfigError} (error channel) on bad `epochs` / `initialEpoch`; any error a callback throws.
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

  /** One fit: check, set up, fitStart, the epochs, fitEnd; always disposes the optimizer. */
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
    const optimizer = this.newOptimizer();
    const batchEvents = options.batchEvents ?? true;
    const f: FitState = {
      model,
      train,
      validation,
      options,
      signal,
      emit,
      runner,
      optimizer,
      loss: lossByName(this.options.loss),
      variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
      batchEvents,
      needBatchLoss: batchEvents || runner.has('onBatchEnd'),
      inputShape: model.inputs[0].shape.slice(1) as number[],
      outputs: model.outputs[0].shape[1] as number,
      epoch: initialEpoch,
      stopReason: undefined,
      lastLogs: undefined,
      weightsSource: { epoch: initialEpoch - 1, weights: 'last' },
    };
    const t0 = this.clock.now();
    try {
      if (options.resume) await restoreState(optimizer, runner, options.resume);
      await runner.run('onFitStart', this.context(f));
      emit({
        type: 'fitStart',
        epochs: options.epochs,
        initialEpoch,
        batchesPerEpoch: train.batchesPerEpoch,
        trainCount: train.count,
        validationCount: validation?.count ?? 0,
        parameters: model.countParams(),
      });
      while (f.epoch < options.epochs && !signal.aborted) {
        const completed = await this.runEpoch(f);
        if (!completed || f.stopReason !== undefined) break;
      }
      await this.finish(f, t0);
    } finally {
      optimizer.dispose();
      this.busy = false;
    }
  }

  /**
   * One epoch: `onEpochStart`, the training batches, validation, then (`f.epoch` advanced)
   * `onEpochEnd` and the `epochEnd` event; a non-finite training loss requests a stop.
   * @returns false when the fit was cancelled mid-epoch (no `epochEnd` then).
   */
  private async runEpoch(f: FitState): Promise<boolean> {
    const te = this.clock.now();
    await f.runner.run('onEpochStart', this.context(f));
    f.emit({ type: 'epochStart', epoch: f.epoch });
    const learningRate = f.optimizer.currentLearningRate;
    const momentum = f.optimizer.currentMomentum;
    f.weightsSource = { epoch: f.epoch, weights: 'partial' };
    const { lossSum, seen } = await this.trainBatches(f);
    if (f.signal.aborted) return false;
    const trainLoss = lossSum / Math.max(seen, 1);
    const validLoss = await this.validate(f);
    const logs: EpochLogs = Object.freeze({
      trainLoss,
      trainRmsePx: rmsePixelsFromMse(trainLoss),
      validLoss,
      validRmsePx: rmsePixelsFromMse(validLoss),
      learningRate,
      momentum,
      durationMs: this.clock.now() - te,
    });
    f.lastLogs = logs;
    const ended = f.epoch;
    f.epoch++;
    f.weightsSource = { epoch: ended, weights: 'last' };
    // Callbacks see the 0-based index of the epoch that just ended.
    await f.runner.run('onEpochEnd', this.context(f, { logs }, ended));
    f.emit({ type: 'epochEnd', epoch: ended, logs });
    if (!Number.isFinite(trainLoss)) f.stopReason ??= `training loss is ${trainLoss} at epoch ${ended}`;
    return true;
  }

  /**
   * The training batches of epoch `f.epoch` (stops early when cancelled). The size-weighted loss
   * sum stays on the device and is read once per epoch, unless per-batch losses are needed.
   * @returns the summed `loss × batch size` (MSE, normalized units) and the number of samples seen.
   */
  private async trainBatches(f: FitState): Promise<{ lossSum: number; seen: number }> {
    let seen = 0;
    let lossTensor: tf.Scalar | undefined;
    let b = 0;
    for (const batch of f.train.epoch(f.epoch)) {
      if (f.signal.aborted) break;
      const cost = this.trainBatch(f, batch);
      const previous = lossTensor;
      lossTensor = tf.tidy(() => (previous ? previous.add(cost.mul(batch.size)) : cost.mul(batch.size)) as tf.Scalar);
      previous?.dispose();
      seen += batch.size;
      if (f.needBatchLoss) {
        const loss = (await cost.data())[0];
        await f.runner.run('onBatchEnd', this.context(f, { batch: { index: b, size: batch.size, loss } }));
        if (f.batchEvents) f.emit({ type: 'batchEnd', epoch: f.epoch, batch: b, size: batch.size, loss });
      }
      cost.dispose();
      b++;
    }
    let lossSum = 0;
    if (lossTensor) {
      lossSum = (await lossTensor.data())[0];
      lossTensor.dispose();
    }
    return { lossSum, seen };
  }

  /**
   * One optimizer step on one batch (training-mode layers, e.g. dropout on) minimising the trainer's
   * loss; returns the batch's masked MSE (caller disposes), whatever the loss.
   */
  private trainBatch(f: FitState, batch: TrainingBatch): tf.Scalar {
    return tf.tidy(() => {
      const x = tf.tensor(batch.images, [batch.size, ...f.inputShape]);
      const y = tf.tensor2d(batch.targets, [batch.size, f.outputs]);
      const m = tf.tensor2d(batch.mask, [batch.size, f.outputs]);
      if (f.loss === maskedMse) return f.optimizer.minimize(() => maskedMse(f.model.apply(x, { training: true }) as tf.Tensor, y, m), true, f.variables)!;
      let mse: tf.Scalar | undefined;
      f.optimizer.minimize(
        () => {
          const pred = f.model.apply(x, { training: true }) as tf.Tensor;
          mse = tf.keep(tf.tidy(() => maskedMse(pred, y, m)));
          return f.loss(pred, y, m);
        },
        false,
        f.variables,
      );
      return mse!;
    });
  }

  /** Validation MSE (normalized units) after an epoch; NaN without a validation set. */
  private async validate(f: FitState): Promise<number> {
    return f.validation ? evaluateMse(f.model, f.validation, this.options.evalBatchSize) : NaN;
  }

  /** The fit's status and `fitEnd`: `onFitEnd` hooks, then the single terminal event. */
  private async finish(f: FitState, t0: number): Promise<void> {
    let status: FitStatus = 'completed';
    if (f.signal.aborted) {
      status = 'cancelled';
      f.stopReason ??= String(f.signal.reason ?? 'cancelled');
    } else if (f.stopReason !== undefined) {
      status = 'stopped';
    }
    await f.runner.run('onFitEnd', this.context(f, { ...(f.lastLogs ? { logs: f.lastLogs } : {}), status }, f.epoch - 1));
    f.emit({
      type: 'fitEnd',
      status,
      ...(f.stopReason !== undefined ? { stopReason: f.stopReason } : {}),
      epochsCompleted: f.epoch,
      durationMs: this.clock.now() - t0,
    });
  }

  /** A fresh callback context at `atEpoch` (default: the epoch about to run). */
  private context(
    f: FitState,
    extra: Partial<Pick<CallbackContext, 'logs' | 'batch' | 'status'>> = {},
    atEpoch = f.epoch,
  ): CallbackContext {
    const { model, optimizer, runner, validation } = f;
    return {
      model,
      getTrainingState: () => captureState(optimizer, runner, atEpoch + (extra.logs ? 1 : 0)),
      epoch: atEpoch,
      epochs: f.options.epochs,
      hasValidation: validation !== undefined && validation.count > 0,
      learningRate: optimizer.currentLearningRate,
      momentum: optimizer.currentMomentum,
      setLearningRate: (v) => optimizer.setLearningRate(v),
      setMomentum: (v) => optimizer.setMomentum(v),
      requestStop: (reason) => {
        f.stopReason ??= reason;
      },
      get stopRequested() {
        return f.stopReason;
      },
      getWeights: () => model.weights.map((w) => w.read().dataSync().slice() as Float32Array),
      get weightsSource() {
        return f.weightsSource;
      },
      setWeights: (values, source) => {
        if (values.length !== model.weights.length) {
          throw new ConfigError(`setWeights: expected ${model.weights.length} arrays, got ${values.length}`);
        }
        tf.tidy(() => model.weights.forEach((w, i) => w.write(tf.tensor(values[i], w.shape as number[]))));
        f.weightsSource = source;
      },
      ...extra,
    };
  }
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
