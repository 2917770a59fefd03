import {
  EarlyStoppingCallback,
  NanGuardCallback,
  ScheduleCallback,
  linearSchedule,
  type TrainingCallback,
} from '@keypoints/training';
import type { TrainConfig } from './config.js';

/** Early-stopping patience of a specialist when none is given (kfkd.py `EarlyStopping(patience=200)`). */
export const SPECIALIST_PATIENCE = 200;

/** The control-plane callbacks a config asks for (schedules, early stopping), before history/checkpoint. */
export function callbacksOf(config: TrainConfig): TrainingCallback[] {
  const out: TrainingCallback[] = [new NanGuardCallback()];
  if (config.learningRateSchedule) {
    const { start, stop } = config.learningRateSchedule;
    out.push(new ScheduleCallback({ variable: 'learningRate', schedule: linearSchedule(start, stop) }));
  }
  if (config.momentumSchedule) {
    const { start, stop } = config.momentumSchedule;
    out.push(new ScheduleCallback({ variable: 'momentum', schedule: linearSchedule(start, stop) }));
  }
  const patience = config.patience ?? (config.keypoints !== 'full' ? SPECIALIST_PATIENCE : undefined);
  if (patience) out.push(new EarlyStoppingCallback({ patience }));
  return out;
}
