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
}

/**
 * Sets the learning rate or momentum at the start of every epoch from a schedule (a plain
 * function of the epoch, as in kfkd.py). Stateless: a resumed run continues at the same schedule
 * position because the value depends only on the epoch.
 *
 * @throws {ConfigError} at the first epoch if the schedule yields an invalid value
 * (learning rate ≤ 0, momentum outside [0, 1)).
 */
export class ScheduleCallback implements TrainingCallback {
  readonly name: string;
  readonly order = CALLBACK_ORDER.schedule;

  constructor(private readonly options: ScheduleOptions) {
    if (options.variable !== 'learningRate' && options.variable !== 'momentum') {
      throw new ConfigError(`schedule variable must be 'learningRate' or 'momentum', got '${String(options.variable)}'`);
    }
    this.name = options.name ?? `${options.variable}-schedule`;
  }

  /** The value for `epoch` of `epochs`. */
  valueAt(epoch: number, epochs: number): number {
    return this.options.schedule(epoch, epochs);
  }

  onEpochStart(ctx: CallbackContext): void {
    const v = this.valueAt(ctx.epoch, ctx.epochs);
    if (this.options.variable === 'learningRate') ctx.setLearningRate(v);
    else ctx.setMomentum(v);
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
