import { ConfigError } from '@keypoints/core';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';
import { Monitor, type MonitorOptions } from './monitor.js';

/** Options of {@link EarlyStoppingCallback}. */
export interface EarlyStoppingOptions extends MonitorOptions {
  /**
   * Epochs without improvement before stopping; default 100 (Nouri 2014 specialists; 200 for the
   * final net). `Infinity`: never stop for want of improvement, only keep and restore the best
   * weights (what `keypoints train --max-time` without `--patience` uses).
   */
  readonly patience?: number;
  /** Restore the best epoch's weights when the fit ends, however it ends; default true. */
  readonly restoreBestWeights?: boolean;
}

/** Saveable state of {@link EarlyStoppingCallback}. */
interface EarlyStoppingState {
  best: number;
  bestEpoch: number;
  wait: number;
  /** Kept as typed arrays: checkpoints store them in a binary side file, not in JSON. */
  bestWeights?: Float32Array[];
}

/**
 * Early stopping (Nouri 2014 `EarlyStopping`, Keras `EarlyStopping`): stops the fit when the
 * monitored metric has not improved for `patience` epochs, with a reason in `fitEnd.stopReason`;
 * the stop is sticky. Keeps a copy of the best weights and restores them when the fit ends —
 * whether it stopped early, completed, or was cancelled — and says so (`setWeights` with source
 * `{ epoch: best, weights: 'best' }`), so the run's reported figures are the restored epoch's.
 * State resets when a fit starts at epoch 0, so an instance can be reused. It is the one place
 * best weights are kept and restored: a fit stopped by something else (a `MaxTimeCallback` time
 * budget, an interrupt) gets the best epoch's weights from it too; `patience: Infinity` keeps only
 * that part.
 *
 * A monitored value that is NaN or infinite is not "an epoch without improvement": it stops the
 * fit at once with the reason `early stopping: <metric> is NaN at epoch <n> (best … at epoch …)`
 * (or `no finite value yet`), and the best weights, if any, are restored as usual.
 *
 * @throws {ConfigError} in the constructor on invalid options (patience not a positive integer or
 * `Infinity`, unknown metric, bad mode or minDelta).
 */
export class EarlyStoppingCallback implements TrainingCallback {
  readonly name = 'early-stopping';
  readonly order = CALLBACK_ORDER.monitor;
  readonly patience: number;
  readonly restoreBestWeights: boolean;
  private readonly monitor: Monitor;
  private wait = 0;
  private bestWeights?: Float32Array[];
  private stoppedFit = false;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = new Monitor(options);
    this.patience = options.patience ?? 100;
    if ((!Number.isInteger(this.patience) && this.patience !== Infinity) || this.patience < 1) {
      throw new ConfigError(`patience must be a positive integer or Infinity, got ${options.patience}`);
    }
    this.restoreBestWeights = options.restoreBestWeights ?? true;
  }

  /** Best value seen and its 0-based epoch (−1 before the first epoch). */
  get best(): { value: number; epoch: number } {
    return { value: this.monitor.best, epoch: this.monitor.bestEpoch };
  }

  /** True when this callback's stop request is the one that ended the last fit (the first request wins). */
  get stopped(): boolean {
    return this.stoppedFit;
  }

  onFitStart(ctx: CallbackContext): void {
    if (this.monitor.metric.startsWith('valid') && !ctx.hasValidation) {
      throw new ConfigError(`early stopping monitors '${this.monitor.metric}' but the fit has no validation set; monitor 'trainLoss' or pass validation data`);
    }
    this.stoppedFit = false;
    if (ctx.epoch === 0) {
      this.monitor.reset();
      this.wait = 0;
      this.bestWeights = undefined;
    }
  }

  onEpochEnd(ctx: CallbackContext): void {
    const value = this.monitor.read(ctx.logs!);
    if (!Number.isFinite(value)) {
      this.stop(ctx, `early stopping: ${this.monitor.metric} is ${value} at epoch ${ctx.epoch + 1} (${this.describeBest()})`);
      return;
    }
    if (this.monitor.improves(value)) {
      this.monitor.best = value;
      this.monitor.bestEpoch = ctx.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.bestWeights = ctx.getWeights();
      return;
    }
    this.wait++;
    if (this.wait >= this.patience) {
      this.stop(ctx, `early stopping: ${this.monitor.metric} did not improve for ${this.patience} epochs (${this.describeBest()})`);
    }
  }

  /** Request the stop and note whether it is the one that ends the fit (an earlier request wins). */
  private stop(ctx: CallbackContext, reason: string): void {
    ctx.requestStop(reason);
    this.stoppedFit ||= ctx.stopRequested === reason;
  }

  /** `best <value> at epoch <1-based>`, or `no finite value yet` when there is no best yet. */
  private describeBest(): string {
    return this.monitor.bestEpoch >= 0 && Number.isFinite(this.monitor.best)
      ? `best ${this.monitor.best.toPrecision(6)} at epoch ${this.monitor.bestEpoch + 1}`
      : 'no finite value yet';
  }

  onFitEnd(ctx: CallbackContext): void {
    if (this.restoreBestWeights && this.bestWeights) ctx.setWeights(this.bestWeights, { epoch: this.monitor.bestEpoch, weights: 'best' });
  }

  getState(): EarlyStoppingState {
    return {
      best: this.monitor.best,
      bestEpoch: this.monitor.bestEpoch,
      wait: this.wait,
      ...(this.bestWeights ? { bestWeights: this.bestWeights } : {}),
    };
  }

  setState(state: unknown): void {
    const s = state as EarlyStoppingState;
    this.monitor.best = s.best ?? NaN;
    this.monitor.bestEpoch = s.bestEpoch ?? -1;
    this.wait = s.wait ?? 0;
    this.bestWeights = s.bestWeights?.map((w) => Float32Array.from(w));
  }
}
