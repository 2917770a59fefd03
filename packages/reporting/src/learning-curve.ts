import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { HistoryRow } from './history.writer.js';

/** A named series of history rows (one run). */
export interface CurveSeries {
  /** Run / model name shown in the legend. */
  readonly name: string;
  readonly rows: readonly HistoryRow[];
}

/** Options of {@link learningCurveSvg}. */
export interface LearningCurveOptions {
  /** Chart title; default `Learning curve`. */
  readonly title?: string;
  /** Width in pixels; default 640. */
  readonly width?: number;
  /** Height in pixels; default 360. */
  readonly height?: number;
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
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: options.title ?? 'Learning curve',
    width: options.width ?? 640,
    height: options.height ?? 360,
    background: 'white',
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
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
