import { ConfigError } from '@keypoints/core';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';

/** Which optimizer value a schedule drives. */
export type ScheduledVariable = 'learningRate' | 'momentum';

/** A schedule: the value to use during 0-based `epoch` of a run of `epochs` epochs. */
export type Schedule = (epoch: number, epochs: number) => number;

/**
 * Linear schedule from `start` (first epoch) to `stop` (last epoch): epoch `e` of `E` uses
 * `start + (stop − start) · e / (E − 1)` — `np.linspace(start, stop, E)[e]`.
 *
 * Nouri 2014 (`AdjustVariable`, net4+): learning rate 0.03 → 0.0001, momentum 0.9 → 0.999 over
 * the run's max epochs. (kfkd.py sets `ls[epoch − 1]` *after* each epoch, so its first two epochs
 * both use `start` and `stop` is never used; here each epoch gets its own value and the last
 * epoch uses `stop`.)
 */
export function linearSchedule(start: number, stop: number): Schedule {
  return (epoch, epochs) => (epochs <= 1 ? start : start + ((stop - start) * epoch) / (epochs - 1));
}

/**
 * Cosine annealing with a linear warm-up (Loshchilov & Hutter 2017, SGDR without restarts; warm-up as
 * in Goyal et al. 2017): epochs `0 … warmup − 1` rise linearly to `peak` (epoch `e` uses
 * `peak · (e + 1) / warmup`), then the value follows half a cosine from `peak` down to `stop` at the
 * last epoch: `stop + (peak − stop) · (1 + cos(π · t)) / 2`, `t = (e − warmup) / (E − 1 − warmup)`.
 * @throws {ConfigError} when `warmup` is not an integer ≥ 0.
 */
export function cosineSchedule(peak: number, stop: number, warmup = 0): Schedule {
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw new ConfigError(`cosine schedule warm-up must be an integer number of epochs ≥ 0, got ${warmup}`);
  return (epoch, epochs) => {
    if (epoch < warmup) return (peak * (epoch + 1)) / warmup;
    const t = epochs - 1 - warmup <= 0 ? 1 : Math.min(1, (epoch - warmup) / (epochs - 1 - warmup));
    return stop + ((peak - stop) * (1 + Math.cos(Math.PI * t))) / 2;
  };
}

/**
 * Exponential decay: `initial · rate^(epoch / every)` (Staravoitau 2017's
 * `tf.train.exponential_decay`, per epoch). With `staircase`, `floor(epoch / every)`.
 */
export function exponentialDecay(initial: number, rate: number, every = 1, staircase = false): Schedule {
  if (!(rate > 0 && rate <= 1)) throw new ConfigError(`exponential decay rate must be in (0, 1], got ${rate}`);
  if (!(every > 0)) throw new ConfigError(`exponential decay 'every' must be > 0, got ${every}`);
  return (epoch) => initial * rate ** (staircase ? Math.floor(epoch / every) : epoch / every);
}

/** Options of {@link ScheduleCallback}. */
export interface ScheduleOptions {
  /** `learningRate` or `momentum`. */
  readonly variable: ScheduledVariable;
  /** The schedule (see {@link linearSchedule}, {@link exponentialDecay}). */
  readonly schedule: Schedule;
  /** Unique callback name; default `<variable>-schedule`. */
  readonly name?: string;
  /**
   * The number of epochs the schedule is planned over (its span): epoch `e` uses
   * `schedule(min(e, span − 1), span)`, so past the span the schedule holds its last value.
   * Default: the fit's `epochs` when the run starts (epoch 0), kept in the callback's state, so a
   * run resumed with a larger `epochs` keeps the plan it started with (it does NOT stretch the
   * schedule over the new length). Give it to re-plan explicitly.
   */
  readonly span?: number;
  /**
   * A wall-time budget in milliseconds (the run's `--max-time`): before each epoch the span becomes
   * the smaller of the planned span and the number of epochs that fit in the budget at the mean
   * epoch duration so far (`durationMs` of the epochs' logs), so a schedule that anneals (cosine,
   * linear decay) reaches its end when the time runs out rather than at an epoch count the budget
   * never reaches. The elapsed time is kept in the callback's state (a resumed run continues the
   * same budget). Default: none (epochs only).
   */
  readonly timeBudgetMs?: number;
}

/** Saveable state of {@link ScheduleCallback}: the span the schedule was planned over, the time spent. */
interface ScheduleState {
  readonly span?: number;
  /** Summed `durationMs` of the epochs run so far (with a time budget). */
  readonly elapsedMs?: number;
  /** Number of epochs in `elapsedMs`. */
  readonly timedEpochs?: number;
}

/**
 * Sets the learning rate or momentum at the start of every epoch from a schedule (a plain
 * function of the epoch, as in kfkd.py), planned over a fixed span of epochs.
 *
 * Resume semantics: the span is fixed when the run starts (the `span` option, else the fit's
 * `epochs` at epoch 0) and saved in checkpoints (`getState`), so a resumed run continues at the
 * same schedule position, and a run resumed with a larger `epochs` holds the schedule's last value
 * (e.g. the learning rate's `stop`) past the planned span instead of stretching the schedule over
 * the new length (which would raise the learning rate again). A smaller `epochs` ends the run
 * before the schedule does. An explicit `span` option wins over the saved one (re-planning).
 *
 * @example
 * ```ts
 * const lr = new ScheduleCallback({ variable: 'learningRate', schedule: linearSchedule(0.03, 0.0001), span: 30 });
 * lr.valueAt(29, 40); // 0.0001 (the last planned epoch)
 * lr.valueAt(35, 40); // 0.0001 (held past the span)
 * ```
 * @throws {ConfigError} in the constructor when `span` is not a positive integer; at an epoch
 * start if the schedule yields an invalid value (learning rate ≤ 0, momentum outside [0, 1)).
 */
export class ScheduleCallback implements TrainingCallback {
  readonly name: string;
  readonly order = CALLBACK_ORDER.schedule;
  /** The span of the current run (set at fit start or restored from a checkpoint). */
  private runSpan: number | undefined;
  /** With a time budget: summed epoch durations (ms) and how many epochs they cover. */
  private elapsedMs = 0;
  private timedEpochs = 0;

  constructor(private readonly options: ScheduleOptions) {
    if (options.variable !== 'learningRate' && options.variable !== 'momentum') {
      throw new ConfigError(`schedule variable must be 'learningRate' or 'momentum', got '${String(options.variable)}'`);
    }
    if (options.timeBudgetMs !== undefined && !(options.timeBudgetMs > 0)) {
      throw new ConfigError(`schedule time budget must be > 0 ms, got ${options.timeBudgetMs}`);
    }
    if (options.span !== undefined && !(Number.isInteger(options.span) && options.span > 0)) {
      throw new ConfigError(`schedule span must be a positive integer number of epochs, got ${options.span}`);
    }
    this.name = options.name ?? `${options.variable}-schedule`;
  }

  /** The number of epochs the schedule is planned over (undefined before a fit started, without a `span` option). */
  get span(): number | undefined {
    return this.options.span ?? this.runSpan;
  }

  /**
   * The span used at 0-based `epoch`: the planned span, or with a time budget and at least one timed
   * epoch, the epochs that fit in the budget (`epoch + ⌊remaining / mean epoch duration⌋`, at least
   * `epoch + 1`) when that is smaller.
   */
  effectiveSpan(epoch: number, epochs: number): number {
    const planned = this.span ?? epochs;
    const budget = this.options.timeBudgetMs;
    if (budget === undefined || this.timedEpochs === 0) return planned;
    const mean = this.elapsedMs / this.timedEpochs;
    const fit = epoch + Math.max(1, Math.floor((budget - this.elapsedMs) / mean));
    return Math.min(planned, fit);
  }

  /**
   * The value for 0-based `epoch` of a fit of `epochs` epochs: `schedule(min(epoch, span − 1), span)`
   * with the planned span (default `epochs` when none is fixed yet).
   */
  valueAt(epoch: number, epochs: number): number {
    const span = this.effectiveSpan(epoch, epochs);
    return this.options.schedule(Math.min(epoch, span - 1), span);
  }

  onFitStart(ctx: CallbackContext): void {
    // A new run plans over its epochs; a resumed one keeps the span restored from its checkpoint
    // (a checkpoint without one — written before spans were saved — plans over the fit's epochs).
    if (ctx.epoch === 0 || this.runSpan === undefined) this.runSpan = ctx.epochs;
    if (ctx.epoch === 0) {
      this.elapsedMs = 0;
      this.timedEpochs = 0;
    }
  }

  onEpochEnd(ctx: CallbackContext): void {
    if (this.options.timeBudgetMs === undefined || !ctx.logs) return;
    this.elapsedMs += ctx.logs.durationMs;
    this.timedEpochs++;
  }

  onEpochStart(ctx: CallbackContext): void {
    const v = this.valueAt(ctx.epoch, ctx.epochs);
    if (this.options.variable === 'learningRate') ctx.setLearningRate(v);
    else ctx.setMomentum(v);
  }

  getState(): ScheduleState {
    return {
      ...(this.span !== undefined ? { span: this.span } : {}),
      ...(this.options.timeBudgetMs !== undefined ? { elapsedMs: this.elapsedMs, timedEpochs: this.timedEpochs } : {}),
    };
  }

  setState(state: unknown): void {
    const s = state as ScheduleState | undefined;
    const span = s?.span;
    this.runSpan = Number.isInteger(span) && (span as number) > 0 ? span : undefined;
    const ok = Number.isFinite(s?.elapsedMs) && Number.isInteger(s?.timedEpochs) && (s?.timedEpochs as number) >= 0;
    this.elapsedMs = ok ? (s?.elapsedMs as number) : 0;
    this.timedEpochs = ok ? (s?.timedEpochs as number) : 0;
  }
}

/** Nouri's `AdjustVariable('update_learning_rate', start, stop)`: a linear learning-rate schedule (default 0.03 → 0.0001). */
export function linearLearningRate(start = 0.03, stop = 0.0001): ScheduleCallback {
  return new ScheduleCallback({ variable: 'learningRate', schedule: linearSchedule(start, stop) });
}

/** Nouri's `AdjustVariable('update_momentum', start, stop)`: a linear momentum increase (default 0.9 → 0.999). */
export function linearMomentum(start = 0.9, stop = 0.999): ScheduleCallback {
  return new ScheduleCallback({ variable: 'momentum', schedule: linearSchedule(start, stop) });
}
