import { cosineSchedule, linearSchedule, type Schedule } from '@keypoints/training';
import type { TrainConfig } from './config.js';

/** A schedule as written in a config (`learningRateSchedule` / `momentumSchedule`). */
export type ScheduleSetting = NonNullable<TrainConfig['learningRateSchedule']>;

/** The schedule function of a config's schedule setting: linear (Nouri's AdjustVariable) or cosine with warm-up. */
export function scheduleOf(setting: ScheduleSetting): Schedule {
  return setting.shape === 'cosine' ? cosineSchedule(setting.start, setting.stop, setting.warmup) : linearSchedule(setting.start, setting.stop);
}

type ScheduleKey = 'learningRateSchedule' | 'momentumSchedule';
const SCHEDULES: ReadonlyArray<readonly [ScheduleKey, string]> = [
  ['learningRateSchedule', 'learning rate'],
  ['momentumSchedule', 'momentum'],
];

/** What {@link plannedSchedules} returns. */
export interface PlannedSchedules {
  /** The saved config's schedules with their span (`epochs`) pinned; only the keys the config has. */
  readonly schedules: Partial<Pick<TrainConfig, ScheduleKey>>;
  /** What the resumed run's `epochs` does to the schedules, in words (undefined when every span equals it). */
  readonly message?: string;
}

/**
 * Resume semantics of the linear schedules: a schedule keeps the span it was planned over and
 * holds its last value past it. The span is the schedule's `epochs` in `config.json`, or — for a
 * run that never pinned one — the saved run's `epochs`; it is pinned into the resumed config, so
 * later resumes keep it too. Resuming with a larger `epochs` therefore trains the extra epochs at
 * the schedule's `stop` value (the learning rate does not jump back up, momentum does not drop);
 * a smaller `epochs` ends the run before the schedule reaches `stop`.
 *
 * @param saved the run's `config.json` as saved.
 * @param epochs the resumed run's maximum epochs (`--epochs`), or undefined to keep the saved one.
 * @returns the pinned schedules and, when the resumed run's epochs differ from a schedule's span,
 * a message saying what happens (printed when resuming).
 * @example
 * ```ts
 * plannedSchedules({ ...saved, epochs: 30, learningRateSchedule: { start: 0.03, stop: 0.0001 } }, 40).message;
 * // 'resuming with 40 epochs: the schedules keep the span they were planned over and hold their last
 * //  value past it: learning rate 0.03 → 0.0001 over 30 epochs, then 0.0001 for epochs 31–40'
 * ```
 */
export function plannedSchedules(saved: TrainConfig, epochs: number | undefined): PlannedSchedules {
  const schedules: Partial<Pick<TrainConfig, ScheduleKey>> = {};
  const parts: string[] = [];
  const target = epochs ?? saved.epochs;
  for (const [key, label] of SCHEDULES) {
    const s = saved[key];
    if (!s) continue;
    const span = s.epochs ?? saved.epochs;
    schedules[key] = { ...s, epochs: span } as never;
    if (target > span) {
      parts.push(`${label} ${s.start} → ${s.stop} over ${span} epochs, then ${s.stop} for epochs ${span + 1}–${target}`);
    } else if (target < span) {
      const last = scheduleOf(s)(target - 1, span);
      parts.push(`${label} ${s.start} → ${s.stop} over ${span} epochs, so it ends at ${Number(last.toPrecision(6))} at epoch ${target}`);
    }
  }
  if (parts.length === 0) return { schedules };
  return {
    schedules,
    message: `resuming with ${target} epochs: the schedules keep the span they were planned over and hold their last value past it: ${parts.join('; ')}`,
  };
}
