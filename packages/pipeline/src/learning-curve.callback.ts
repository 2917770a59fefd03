import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CALLBACK_ORDER, type TrainingCallback } from '@keypoints/training';
import { readHistory, writeFileAtomic } from '@keypoints/core/node';
import { learningCurveSvg } from '@keypoints/reporting';

/** Options of {@link LearningCurveCallback}. */
export interface LearningCurveOptions {
  /** The run directory: reads `history.json` there, writes `learning-curve.svg` there. */
  readonly dir: string;
  /** Series name and chart title prefix (the run name). */
  readonly label: string;
}

/**
 * Draws `<dir>/learning-curve.svg` (train and validation RMSE in pixels per epoch, from
 * `@keypoints/reporting`) at fit end from the `history.json` the run-directory callback has just
 * written (order 910, after `run-directory`, 750). Without a `history.json` (the
 * `run-directory` default removed) it draws nothing. Name: `learning-curve`.
 */
export class LearningCurveCallback implements TrainingCallback {
  readonly name = 'learning-curve';
  readonly order = CALLBACK_ORDER.artifacts + 10;

  constructor(private readonly options: LearningCurveOptions) {}

  async onFitEnd(): Promise<void> {
    const { dir, label } = this.options;
    if (!existsSync(join(dir, 'history.json'))) return;
    const rows = await readHistory(dir);
    await writeFileAtomic(join(dir, 'learning-curve.svg'), await learningCurveSvg([{ name: label, rows }], { title: `${label}: RMSE per epoch` }));
  }
}
