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
}

/** Saveable state of {@link ScheduleCallback}: the span the schedule was planned over. */
interface ScheduleState {
  readonly span?: number;
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

  constructor(private readonly options: ScheduleOptions) {
    if (options.variable !== 'learningRate' && options.variable !== 'momentum') {
      throw new ConfigError(`schedule variable must be 'learningRate' or 'momentum', got '${String(options.variable)}'`);
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
   * The value for 0-based `epoch` of a fit of `epochs` epochs: `schedule(min(epoch, span − 1), span)`
   * with the planned span (default `epochs` when none is fixed yet).
   */
  valueAt(epoch: number, epochs: number): number {
    const span = this.span ?? epochs;
    return this.options.schedule(Math.min(epoch, span - 1), span);
  }

  onFitStart(ctx: CallbackContext): void {
    // A new run plans over its epochs; a resumed one keeps the span restored from its checkpoint
    // (a checkpoint without one — written before spans were saved — plans over the fit's epochs).
    if (ctx.epoch === 0 || this.runSpan === undefined) this.runSpan = ctx.epochs;
  }

  onEpochStart(ctx: CallbackContext): void {
    const v = this.valueAt(ctx.epoch, ctx.epochs);
    if (this.options.variable === 'learningRate') ctx.setLearningRate(v);
    else ctx.setMomentum(v);
  }

  getState(): ScheduleState {
    return this.span !== undefined ? { span: this.span } : {};
  }

  setState(state: unknown): void {
    const span = (state as ScheduleState | undefined)?.span;
    this.runSpan = Number.isInteger(span) && (span as number) > 0 ? span : undefined;
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
