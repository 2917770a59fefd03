import type * as vegaLite from 'vega-lite';
import type { HistoryRow } from '@keypoints/core/node';
import { chartFrame, vegaLiteSvg, type ChartFrameOptions } from './vega-render.js';

/** A named series of history rows (one run). */
export interface CurveSeries {
  /** Run / model name shown in the legend. */
  readonly name: string;
  readonly rows: readonly HistoryRow[];
}

/** Options of {@link learningCurveSvg}. */
export interface LearningCurveOptions extends ChartFrameOptions {
  /** Chart title; default `Learning curve`. */
  readonly title?: string;
}

/**
 * A learning-curve chart as SVG text: train and validation RMSE in **pixels** against the
 * (1-based) epoch, log-scaled y axis (Nouri 2014's plots), one colour per run, solid lines for
 * validation and dashed for training. Rendered by vega-lite headless (no canvas needed).
 */
export async function learningCurveSvg(series: readonly CurveSeries[], options: LearningCurveOptions = {}): Promise<string> {
  const values: Array<{ run: string; epoch: number; split: string; rmse: number }> = [];
  for (const s of series) {
    for (const r of s.rows) {
      if (Number.isFinite(r.trainRmsePx) && r.trainRmsePx > 0) values.push({ run: s.name, epoch: r.epoch + 1, split: 'train', rmse: r.trainRmsePx });
      if (Number.isFinite(r.validRmsePx) && r.validRmsePx > 0) values.push({ run: s.name, epoch: r.epoch + 1, split: 'validation', rmse: r.validRmsePx });
    }
  }
  const spec: vegaLite.TopLevelSpec = {
    ...chartFrame(options, 'Learning curve'),
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      y: { field: 'rmse', type: 'quantitative', title: 'RMSE (pixels, 96×96 frame)', scale: { type: 'log' } },
      color: { field: 'run', type: 'nominal', title: 'run' },
      strokeDash: { field: 'split', type: 'nominal', title: 'split', sort: ['validation', 'train'] },
      detail: { field: 'split' },
    },
  };
  return vegaLiteSvg(spec);
}
