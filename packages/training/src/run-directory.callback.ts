import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, type Clock } from '@keypoints/core';
import { writeFileAtomic, writeHistory } from '@keypoints/core/node';
import { saveModel } from '@keypoints/models';
import { CALLBACK_ORDER, type CallbackContext } from './callback.js';
import type { FitStatus } from './events.js';
import { HistoryCallback, type HistoryEntry } from './history.callback.js';

/**
 * The figures of one fit that {@link RunDirectoryCallback} writes to `metrics.json` (unless its
 * `metrics` option reshapes them). RMSE values are pixels of the 96×96 frame.
 */
export interface FitMetrics {
  /** Number of trainable parameters of the model. */
  readonly parameters: number;
  /** Epochs recorded in the history (with a resume: also those before it). */
  readonly epochs: number;
  /**
   * The headline: validation RMSE of the model as saved (the weights it holds at fit end —
   * with early stopping, the restored best epoch's), pixels; equals `savedModel.validRmsePx`.
   */
  readonly validRmsePx: number;
  /** Which weights the saved model holds, and their validation RMSE (see {@link SavedModelFigures}). */
  readonly savedModel: SavedModelFigures;
  /** Validation RMSE of the last epoch, pixels (NaN without a validation set or epoch); not the saved model's when early stopping restored another epoch. */
  readonly finalValidRmsePx: number;
  /** Lowest validation RMSE of the run, pixels (NaN if none). */
  readonly bestValidRmsePx: number;
  /** 1-based epoch of {@link bestValidRmsePx}; 0 if none. */
  readonly bestEpoch: number;
  /** Training RMSE of the last epoch, pixels. */
  readonly finalTrainRmsePx: number;
  /**
   * Training time, seconds, rounded to 0.1: this fit's wall time; for a resumed fit the sum of
   * every recorded epoch's `durationMs` (so the epochs before the restart count too).
   */
  readonly trainSeconds: number;
  /** How the fit ended. */
  readonly status: FitStatus;
  /** Why it stopped early (status `stopped` / `cancelled`). */
  readonly stopReason?: string;
}

/**
 * What the saved model is: the figures in `metrics.json` describe these weights.
 */
export interface SavedModelFigures {
  /**
   * 1-based epoch whose end-of-epoch weights the model holds (`partial`: the epoch in progress
   * when the fit was cancelled; 0: no epoch trained); NaN when unknown.
   */
  readonly epoch: number;
  /**
   * `best`: restored by early stopping to its best epoch; `last`: the last epoch's;
   * `partial`: mid-epoch (cancelled); `unknown`: a callback set weights without saying whose.
   */
  readonly weights: 'best' | 'last' | 'partial' | 'unknown';
  /** Validation RMSE of those weights, pixels (from that epoch's history row; NaN when not measured). */
  readonly validRmsePx: number;
}

/** What a {@link RunDirectoryOptions.metrics} function receives. */
export interface FitSummary extends FitMetrics {
  /** Every epoch of the run, oldest first (0-based `epoch`). */
  readonly history: readonly HistoryEntry[];
}

/** Options of {@link RunDirectoryCallback}. */
export interface RunDirectoryOptions {
  /** The run directory (created if missing), e.g. `runs/net1`. */
  readonly dir: string;
  /** Unique callback name; default `run-directory`. */
  readonly name?: string;
  /** Save the trained model to `<dir>/model/` (TensorFlow.js layers format); default true. */
  readonly saveModel?: boolean;
  /**
   * The object written to `metrics.json`; default the {@link FitMetrics} as they are. Return
   * `undefined` to write no `metrics.json`.
   */
  readonly metrics?: (fit: FitSummary) => Readonly<Record<string, unknown>> | undefined | Promise<Readonly<Record<string, unknown>> | undefined>;
  /** Time source for `trainSeconds` (milliseconds); default `performance.now()`. */
  readonly clock?: Clock;
}

/**
 * Writes a run directory at the end of a fit (completed, stopped early, or cancelled; not when the
 * fit fails): `history.json` + `history.csv` (one row per epoch), `model/` (TensorFlow.js layers
 * format, via `@keypoints/models`' `saveModel`: portable, standard classes only, loadable with stock `tf.loadLayersModel`) and
 * `metrics.json` (the fit's {@link FitMetrics}, or what the `metrics` option makes of them). So a
 * user of `Trainer` alone gets the same files as `keypoints train`. It records the epochs itself
 * and is stateful (its rows are saved in checkpoints), so a resumed run's history has every epoch.
 * Runs at order 750: its epoch rows are recorded before `checkpoint` (800) saves the callback
 * states, and its `onFitEnd` runs after early stopping (200) restored the best weights (the saved
 * model is the restored one); `onFitEnd` is awaited, so the files exist when `fitEnd` arrives.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({}, [new RunDirectoryCallback({ dir: 'runs/mine' })]);
 * await lastValueFrom(trainer.fit(model, batches, validation, { epochs: 2 }));
 * // runs/mine/{history.json, history.csv, metrics.json, model/model.json, model/weights.bin}
 * ```
 * @throws {ConfigError} in the constructor without `dir`.
 */
export class RunDirectoryCallback extends HistoryCallback {
  override readonly name: string;
  /** 750: records each epoch after `history` and BEFORE `checkpoint` (800) saves its state. */
  override readonly order: number = CALLBACK_ORDER.history + 50;
  /** Absolute path of the run directory. */
  readonly dir: string;
  private t0 = 0;
  private resumed = false;
  private written: Readonly<Record<string, unknown>> | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: RunDirectoryOptions) {
    super();
    if (!options?.dir) throw new ConfigError('run-directory: dir is required');
    this.dir = resolve(options.dir);
    this.name = options.name ?? 'run-directory';
    this.clock = options.clock ?? { now: () => performance.now() };
  }

  /** What the last fit wrote to `metrics.json` (undefined before a fit ended, or when none was written). */
  get metrics(): Readonly<Record<string, unknown>> | undefined {
    return this.written;
  }

  override onFitStart(ctx: CallbackContext): void {
    super.onFitStart(ctx);
    this.resumed = ctx.epoch > 0;
    this.written = undefined;
    this.t0 = this.clock.now();
  }

  async onFitEnd(ctx: CallbackContext): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeHistory(this.dir, this.rows);
    if (this.options.saveModel ?? true) await saveModel(ctx.model, join(this.dir, 'model'));
    const seconds = this.resumed ? this.rows.reduce((t, r) => t + (r.durationMs ?? 0), 0) / 1000 : (this.clock.now() - this.t0) / 1000;
    const last = this.rows.at(-1);
    const best = this.best();
    const stopReason = ctx.stopRequested;
    const savedModel = savedModelFigures(ctx, this.rows);
    const fit: FitSummary = {
      parameters: ctx.model.countParams(),
      epochs: this.rows.length,
      validRmsePx: savedModel.validRmsePx,
      savedModel,
      finalValidRmsePx: last?.validRmsePx ?? NaN,
      bestValidRmsePx: best?.validRmsePx ?? NaN,
      bestEpoch: best ? best.epoch + 1 : 0,
      finalTrainRmsePx: last?.trainRmsePx ?? NaN,
      trainSeconds: Math.round(seconds * 10) / 10,
      status: ctx.status ?? 'completed',
      ...(stopReason !== undefined && ctx.status !== 'completed' ? { stopReason } : {}),
      history: this.rows,
    };
    const { history: _history, ...plain } = fit;
    const metrics = this.options.metrics ? await this.options.metrics(fit) : plain;
    if (metrics) await writeFileAtomic(join(this.dir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
    this.written = metrics;
  }
}

/** Which weights the model holds at fit end (from the trainer's `weightsSource`) and their recorded validation RMSE. */
function savedModelFigures(ctx: CallbackContext, rows: readonly HistoryEntry[]): SavedModelFigures {
  const source = ctx.weightsSource;
  if (!source) return { epoch: NaN, weights: 'unknown', validRmsePx: NaN };
  const row = source.weights === 'partial' ? undefined : rows.find((r) => r.epoch === source.epoch);
  return { epoch: source.epoch + 1, weights: source.weights, validRmsePx: row?.validRmsePx ?? NaN };
}
