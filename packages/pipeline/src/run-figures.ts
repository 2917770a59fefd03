import type * as tf from '@tensorflow/tfjs';
import { rmsePixelsFromMse } from '@keypoints/core';
import { evaluateMse, type FitSummary, type SavedModelFigures, type ValidationSet } from '@keypoints/training';
import type { RunMetrics } from '@keypoints/reporting';
import { versusBaseline } from './baseline.js';

/**
 * The figures of the saved model: the fit's {@link SavedModelFigures} (which weights the model
 * holds at fit end and their recorded validation RMSE), measured on `validation` when no epoch row
 * describes those weights (a fit cancelled mid-epoch, or weights set by a callback without a source).
 *
 * @param fit the fit's summary (from the `run-directory` callback).
 * @param model the model as it is saved (its weights at fit end).
 * @param validation the run's validation set (`[N, 96, 96, 1]` images, `[N, K]` normalized targets and mask).
 * @returns the figures; `validRmsePx` in pixels (NaN without validation data).
 */
export async function savedModelFigures(fit: FitSummary, model: tf.LayersModel, validation: ValidationSet): Promise<SavedModelFigures> {
  const saved = fit.savedModel;
  if (Number.isFinite(saved.validRmsePx) || validation.count === 0 || fit.epochs === 0) return saved;
  return { ...saved, validRmsePx: rmsePixelsFromMse(await evaluateMse(model, validation)) };
}

/** `best weights, epoch 12 of 40` — which weights a run's saved model holds, in words. */
function describeSaved(m: RunMetrics): string {
  const s = m.savedModel;
  if (!s) return `last epoch, ${m.epochs}`;
  switch (s.weights) {
    case 'best':
      return `best weights, epoch ${s.epoch} of ${m.epochs}, restored ${m.stoppedBy === 'max-time' ? 'when the time budget stopped the run' : 'by early stopping'}`;
    case 'last':
      return `last epoch, ${s.epoch}`;
    case 'partial':
      return `weights of epoch ${s.epoch}, cut short`;
    default:
      return 'weights set by a callback';
  }
}

/**
 * The end-of-run summary lines of a run's `metrics.json`, the saved model's figure first (what
 * `keypoints train` prints):
 *
 * ```
 * saved model: validation RMSE 19.603 px (best weights, epoch 12 of 40, restored by early stopping)
 * mean-shape baseline: 25.114 px → 21.9 % lower than the baseline
 * last epoch (40): validation RMSE 19.621 px; best 19.603 px at epoch 12
 * ```
 *
 * A run its time budget stopped (`stoppedBy: 'max-time'`) adds
 * `stopped by --max-time: time budget of 30 min spent (29.6 min, 41 epochs)`.
 * Runs written before `validRmsePx` existed fall back to the last epoch's figure.
 */
export function runSummaryLines(m: RunMetrics): string[] {
  const headline = m.validRmsePx ?? m.finalValidRmsePx;
  return [
    `saved model: validation RMSE ${headline.toFixed(3)} px (${describeSaved(m)})`,
    `mean-shape baseline: ${m.baselineValidRmsePx.toFixed(3)} px → ${versusBaseline(m.improvementOverBaseline)}`,
    `last epoch (${m.epochs}): validation RMSE ${m.finalValidRmsePx.toFixed(3)} px; best ${m.bestValidRmsePx.toFixed(3)} px at epoch ${m.bestEpoch}`,
    ...(m.stoppedBy === 'max-time' ? [`stopped by --max-time: ${m.stopReason ?? `time budget of ${m.maxTimeMinutes} min spent`}`] : []),
  ];
}
