import { ConfigError, systemClock, type Clock } from '@keypoints/core';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';

/** Options of {@link MaxTimeCallback}. */
export interface MaxTimeOptions {
  /** Wall-time budget of the fit, **minutes** (a finite number > 0; fractions are fine, e.g. 0.5). */
  readonly minutes: number;
  /**
   * Time source, milliseconds (monotonic); default core's `systemClock` (`performance.now()`).
   * Pass the run's `CLOCK` (or a fake one in tests) to control it.
   */
  readonly clock?: Clock;
}

/** Saveable state of {@link MaxTimeCallback} (JSON; checkpointed with the other callbacks' states). */
interface MaxTimeState {
  /** Wall time of the fit so far, milliseconds (all fits of the run: a resumed fit adds to it). */
  elapsedMs: number;
}

/**
 * A wall-time budget for a fit (PyTorch Lightning `Trainer(max_time=…)`, its `Timer` callback):
 * stops the fit at an epoch boundary once the budget is spent — or earlier, when what is left of
 * it is smaller than the last epoch took, so a run does not overrun its budget by a whole epoch.
 * It never cuts an epoch: it only calls `ctx.requestStop(reason)` in `onEpochEnd`, e.g.
 * `time budget of 30 min spent (29.6 min, 41 epochs; 24 s left, less than the last epoch's 42 s)`
 * (the part after `;` when it stops before spending it all; durations under a minute in seconds).
 *
 * The time counted is the fit's wall time from `onFitStart`: training, validation, the other
 * callbacks and the checkpoint writes (it runs at order 840, after `checkpoint`, 800, so the epoch
 * it decides on includes its checkpoint). The elapsed time is saveable state (`getState()` reads it
 * live, so a checkpoint stores the time up to its own write): a run resumed from a checkpoint
 * continues the same budget instead of starting a new one. The time between a kill and the resume
 * does not count (as in Lightning). The state resets when a fit starts at epoch 0, so an instance
 * can be reused.
 *
 * It stops; it does not choose weights. Early stopping's best-weights copy restores the best epoch
 * at fit end whatever ended the fit (`EarlyStoppingCallback`; `keypoints train --max-time` without
 * `--patience` adds one with `patience: Infinity` for that). Without a validation set there is no
 * best epoch: the reason then says that the last epoch's weights are kept.
 *
 * @example
 * ```ts
 * const trainer = new Trainer({}, [new EarlyStoppingCallback({ patience: Infinity }), new MaxTimeCallback({ minutes: 30 })]);
 * const end = await lastValueFrom(trainer.fit(model, batches, validation, { epochs: 10_000 }));
 * // end.status === 'stopped', end.stopReason === 'time budget of 30 min spent (29.6 min, 41 epochs; …)'
 * ```
 * @throws {ConfigError} in the constructor when `minutes` is not a finite number > 0.
 */
export class MaxTimeCallback implements TrainingCallback {
  readonly name = 'max-time';
  /** 840: after `checkpoint` (800), so the last epoch's duration includes its checkpoint write. */
  readonly order = CALLBACK_ORDER.checkpoint + 40;
  /** The budget, minutes. */
  readonly minutes: number;
  private readonly clock: Clock;
  /** Elapsed milliseconds before the current fit started (a resumed run's earlier fits); the total once a fit ended. */
  private offsetMs = 0;
  /** `clock.now()` at `onFitStart` of the running fit; undefined outside a fit. */
  private startedAt: number | undefined;
  /** `clock.now()` at the start of the fit or at the last epoch end. */
  private mark = 0;
  private stoppedFit = false;

  constructor(options: MaxTimeOptions) {
    const minutes = options?.minutes;
    if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0) {
      throw new ConfigError(`max-time: minutes must be a finite number > 0, got ${String(minutes)}`);
    }
    this.minutes = minutes;
    this.clock = options.clock ?? systemClock;
  }

  /** The budget, milliseconds. */
  get budgetMs(): number {
    return this.minutes * 60_000;
  }

  /** Wall time of the run's fits so far, milliseconds (live during a fit). */
  get elapsedMs(): number {
    return this.offsetMs + (this.startedAt === undefined ? 0 : this.clock.now() - this.startedAt);
  }

  /** True when this callback's stop request is the one that ended the last fit (the first request wins). */
  get stopped(): boolean {
    return this.stoppedFit;
  }

  onFitStart(ctx: CallbackContext): void {
    if (ctx.epoch === 0) this.offsetMs = 0;
    this.stoppedFit = false;
    this.startedAt = this.mark = this.clock.now();
  }

  onEpochEnd(ctx: CallbackContext): void {
    const now = this.clock.now();
    const epochMs = now - this.mark;
    this.mark = now;
    const elapsed = this.elapsedMs;
    const left = this.budgetMs - elapsed;
    if (left > 0 && left >= epochMs) return;
    const epochs = ctx.epoch + 1;
    const reason =
      `time budget of ${Number(this.minutes.toPrecision(4))} min spent (${durationText(elapsed)}, ${epochs} epoch${epochs === 1 ? '' : 's'}` +
      (left > 0 ? `; ${durationText(left)} left, less than the last epoch's ${durationText(epochMs)}` : '') +
      ')' +
      (ctx.hasValidation ? '' : "; no validation set, so the last epoch's weights are kept");
    if (ctx.stopRequested === undefined) {
      ctx.requestStop(reason);
      this.stoppedFit = ctx.stopRequested === reason;
    }
  }

  onFitEnd(): void {
    this.offsetMs = this.elapsedMs;
    this.startedAt = undefined;
  }

  getState(): MaxTimeState {
    return { elapsedMs: this.elapsedMs };
  }

  setState(state: unknown): void {
    const elapsedMs = (state as Partial<MaxTimeState> | null)?.elapsedMs;
    if (typeof elapsedMs !== 'number' || !Number.isFinite(elapsedMs) || elapsedMs < 0) {
      throw new TypeError(`max-time state must be { elapsedMs: number ≥ 0 }, got ${JSON.stringify(state)}`);
    }
    this.offsetMs = elapsedMs;
    if (this.startedAt !== undefined) this.startedAt = this.clock.now();
  }
}

/** A duration with three significant digits, in minutes from one minute on, else seconds: `29.6 min`, `120 min`, `42.3 s`, `0.71 s`. */
function durationText(ms: number): string {
  return ms >= 60_000 ? `${Number((ms / 60_000).toPrecision(3))} min` : `${Number((ms / 1000).toPrecision(3))} s`;
}
