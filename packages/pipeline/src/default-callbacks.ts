import {
  CheckpointCallback,
  EarlyStoppingCallback,
  HistoryCallback,
  MaxTimeCallback,
  NanGuardCallback,
  RunDirectoryCallback,
  ScheduleCallback,
  type RunDirectoryOptions,
  type TrainingCallback,
} from '@keypoints/training';
import { join } from 'node:path';
import type { TrainConfig } from './config.js';
import { DropoutSeedCallback } from './dropout-seed.callback.js';
import { scheduleOf } from './schedule-plan.js';
import { LearningCurveCallback } from './learning-curve.callback.js';
import { ProgressCallback } from './progress.callback.js';

/** Early-stopping patience of a specialist when none is given (kfkd.py `EarlyStopping(patience=200)`). */
export const SPECIALIST_PATIENCE = 200;

/**
 * The control-plane callbacks a config asks for: `nan-guard`, then `learningRate-schedule` /
 * `momentum-schedule` (when the config has schedules), `early-stopping` (with `patience`, or
 * 200 for a specialist; with `maxTime` and no patience, `patience: Infinity`: it only keeps and
 * restores the best weights) and `max-time` (with `maxTime`, minutes).
 *
 * A schedule is planned over its `epochs` (pinned when a run is resumed) or else the run's
 * `epochs` — with `maxTime`, over the epochs that fit in the time budget when fewer — and holds its `stop` value past that span — so resuming with a larger `epochs` trains
 * the extra epochs at the final learning rate / momentum instead of re-stretching the schedule.
 */
export function callbacksOf(config: TrainConfig): TrainingCallback[] {
  const out: TrainingCallback[] = [new NanGuardCallback()];
  // With a time budget, a schedule also plans over the epochs that fit in it (ScheduleCallback's timeBudgetMs).
  const timeBudget = config.maxTime !== undefined ? { timeBudgetMs: config.maxTime * 60_000 } : {};
  if (config.learningRateSchedule) {
    const s = config.learningRateSchedule;
    out.push(new ScheduleCallback({ variable: 'learningRate', schedule: scheduleOf(s), span: s.epochs ?? config.epochs, ...timeBudget }));
  }
  if (config.momentumSchedule) {
    const s = config.momentumSchedule;
    out.push(new ScheduleCallback({ variable: 'momentum', schedule: scheduleOf(s), span: s.epochs ?? config.epochs, ...timeBudget }));
  }
  const patience = config.patience ?? (config.keypoints !== 'full' ? SPECIALIST_PATIENCE : undefined);
  // A time budget keeps (and restores) the best weights too: early stopping without a patience stop.
  if (patience || config.maxTime !== undefined) out.push(new EarlyStoppingCallback({ patience: patience ?? Infinity }));
  if (config.maxTime !== undefined) out.push(new MaxTimeCallback({ minutes: config.maxTime }));
  if (config.dropout) out.push(new DropoutSeedCallback());
  return out;
}

/** What {@link runCallbacksOf} needs beyond the config. */
export interface RunCallbackOptions {
  /** The run directory (absolute). */
  readonly runDir: string;
  /** The run name (progress label, learning-curve title). */
  readonly name: string;
  /** `metrics.json` of the run from the fit's figures (see `RunDirectoryOptions.metrics`). */
  readonly metrics?: RunDirectoryOptions['metrics'];
}

/**
 * Every default callback of a `keypoints train` run, by name (replace one with a callback of the
 * same name, remove one by name — `TrainRunOptions.callbacks` / `remove`):
 *
 * | name | order | does |
 * |---|---|---|
 * | `nan-guard` | 150 | fails the fit on a NaN / infinite loss |
 * | `learningRate-schedule`, `momentum-schedule` | 100 | the config's linear schedules |
 * | `early-stopping` | 200 | the config's patience (specialists: 200); with `maxTime`, keeps the best weights |
 * | `max-time` | 840 | the config's `maxTime` (minutes): stops at the epoch end where the budget runs out |
 * | `dropout-seed` | 100 | with dropout: seeded masks per epoch (reproducible, also across resume) |
 * | `history` | 700 | epoch rows (kept in checkpoints) |
 * | `checkpoint` | 800 | `<runDir>/checkpoints/{last,best}` |
 * | `run-directory` | 750 | `history.json`, `history.csv`, `model/`, `metrics.json` at fit end |
 * | `learning-curve` | 910 | `learning-curve.svg` at fit end |
 * | `progress` | 950 | progress bar / lines on stderr |
 */
export function runCallbacksOf(config: TrainConfig, options: RunCallbackOptions): TrainingCallback[] {
  const { runDir, name } = options;
  return [
    ...callbacksOf(config),
    new HistoryCallback(),
    new CheckpointCallback({ dir: join(runDir, 'checkpoints') }),
    new RunDirectoryCallback({
      dir: runDir,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    }),
    new LearningCurveCallback({ dir: runDir, label: name }),
    new ProgressCallback(name),
  ];
}
