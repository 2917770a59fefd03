import { ConfigError, rmsePixelsFromMse } from '@keypoints/core';
import type * as vegaLite from 'vega-lite';
import type { HistoryRow } from '@keypoints/core/node';
import { chartFrame, vegaLiteSvg, type ChartFrameOptions } from './vega-render.js';

/** One specialist's training history, as {@link specialistCurvesSvg} takes it. */
export interface SpecialistCurve {
  /** Group name, e.g. `eye_center`; the legend shows `<name> (<outputs>)`. Unique among the curves. */
  readonly name: string;
  /** Number of output units (keypoint columns, e.g. 4 for the two eye centres): its weight in the mean. */
  readonly outputs: number;
  /** Its `history.json` rows, oldest epoch first (losses in normalized MSE; `null`/`NaN` = none). */
  readonly rows: readonly HistoryRow[];
}

/** Options of {@link specialistCurvesSvg}. */
export interface SpecialistCurvesOptions extends ChartFrameOptions {
  /** Chart title; default `Specialists: learning curves`. */
  readonly title?: string;
  /** Points each curve is rebinned to (see {@link rebin}); default 100 (kfkd.py). */
  readonly points?: number;
  /** Fixed y-axis range in pixels, e.g. `[1, 4]` (kfkd.py's `ylim`); default: fitted to the data. */
  readonly yDomain?: readonly [number, number];
}

/** Colour of the weighted mean curve (kfkd.py: `color='r'`). */
const MEAN_COLOR = '#d62728';
/** Colours of the specialists: tableau10 without its red, which is kept for the mean. */
const SPECIALIST_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#e377c2', '#7f7f7f', '#bcbd22'];

/**
 * Resample a curve to `points` values by index: value `i` is `values[floor(i × n / points)]`
 * (`n = values.length`, `i = 0 … points − 1`). Shorter curves repeat values, longer ones skip values,
 * so curves of runs with different epoch counts share one x axis (kfkd.py `rebin`, Nouri 2014).
 *
 * @param values the curve, `n ≥ 1` values.
 * @param points number of values wanted (a positive integer); default 100.
 * @returns a new array of `points` values.
 * @throws {ConfigError} when `values` is empty or `points` is not a positive integer.
 *
 * @example
 * ```ts
 * rebin([10, 20, 30, 40, 50], 2); // [10, 30]: indices floor(0 × 5/2) = 0 and floor(1 × 5/2) = 2
 * ```
 */
export function rebin(values: ArrayLike<number>, points = 100): number[] {
  if (!(Number.isInteger(points) && points > 0)) throw new ConfigError(`rebin: points must be a positive integer, got ${String(points)}`);
  const n = values.length;
  if (n === 0) throw new ConfigError('rebin: the curve is empty; expected at least one value');
  return Array.from({ length: points }, (_, i) => values[Math.floor((i * n) / points)]);
}

/**
 * The weighted mean of several curves of equal length, point by point, with the weights normalised
 * to sum 1 (kfkd.py `plot_learning_curves`: weights = each specialist's `output_num_units`).
 * A point where any curve is not finite (`NaN`: no validation that epoch) is `NaN`.
 *
 * @param curves `m ≥ 1` curves, each of the same length `L`.
 * @param weights `m` non-negative weights with a positive sum (e.g. output units per specialist).
 * @returns `L` values: `Σ_k w_k × curves[k][i] / Σ_k w_k`.
 * @throws {ConfigError} when there are no curves, the lengths differ, the number of weights is not the
 *   number of curves, a weight is negative or not finite, or the weights sum to 0.
 *
 * @example
 * ```ts
 * weightedMeanCurve([[1, 2], [4, 8]], [3, 1]); // [1.75, 3.5]
 * ```
 */
export function weightedMeanCurve(curves: ReadonlyArray<ArrayLike<number>>, weights: readonly number[]): number[] {
  if (curves.length === 0) throw new ConfigError('weightedMeanCurve: no curves; expected at least one');
  if (weights.length !== curves.length) {
    throw new ConfigError(`weightedMeanCurve: ${weights.length} weights for ${curves.length} curves; expected one weight per curve`);
  }
  const length = curves[0].length;
  curves.forEach((c, k) => {
    if (c.length !== length) throw new ConfigError(`weightedMeanCurve: curve ${k} has ${c.length} points, curve 0 has ${length}; rebin them first`);
  });
  if (!weights.every((w) => Number.isFinite(w) && w >= 0)) {
    throw new ConfigError(`weightedMeanCurve: weights must be finite and non-negative, got ${weights.join(', ')}`);
  }
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new ConfigError('weightedMeanCurve: the weights sum to 0');
  const normalised = weights.map((w) => w / total);
  return Array.from({ length }, (_, i) => {
    let sum = 0;
    for (let k = 0; k < curves.length; k++) {
      const v = curves[k][i];
      if (!Number.isFinite(v)) return NaN;
      sum += normalised[k] * v;
    }
    return sum;
  });
}

/** `sqrt(loss) × 48` px, `NaN` for a missing loss (`null` in a `history.json`, or `NaN`). */
function rmsePx(loss: number | null): number {
  return typeof loss === 'number' && Number.isFinite(loss) ? rmsePixelsFromMse(loss) : NaN;
}

/**
 * The specialists' learning curves on one chart, as SVG text (Nouri 2014, kfkd.py
 * `plot_learning_curves`): for each specialist, validation (solid) and training (dashed, lighter)
 * RMSE in **pixels** (`sqrt(loss) × 48`) per epoch, each {@link rebin}ned to `points` values so
 * specialists trained for different numbers of epochs share one x axis (training progress, % of each
 * run's epochs); legend `<name> (<outputs>)`; plus the validation curves' {@link weightedMeanCurve}
 * (weights = output units) as a thicker red line labelled `mean`. Linear y axis "RMSE (px)".
 * Rendered by vega-lite headless, like `learningCurveSvg`.
 *
 * @param curves one entry per specialist (at least one, each with at least one history row, unique
 *   names, positive `outputs`).
 * @param options title, width (640), height (360), `points` (100), `yDomain` (fitted).
 * @throws {ConfigError} when `curves` is empty, a curve has no rows, two curves share a name, or
 *   `outputs` is not a positive integer.
 *
 * @example
 * ```ts
 * const svg = await specialistCurvesSvg([
 *   { name: 'eye_center', outputs: 4, rows: eyeHistory },
 *   { name: 'nose_tip', outputs: 2, rows: noseHistory },
 * ]);
 * ```
 */
export async function specialistCurvesSvg(curves: readonly SpecialistCurve[], options: SpecialistCurvesOptions = {}): Promise<string> {
  const points = options.points ?? 100;
  if (curves.length === 0) throw new ConfigError('specialistCurvesSvg: no specialists; expected at least one curve');
  const names = new Set<string>();
  for (const c of curves) {
    if (names.has(c.name)) throw new ConfigError(`specialistCurvesSvg: two specialists are named '${c.name}'; expected unique names`);
    names.add(c.name);
    if (!(Number.isInteger(c.outputs) && c.outputs > 0)) {
      throw new ConfigError(`specialistCurvesSvg: specialist '${c.name}' has outputs ${String(c.outputs)}; expected a positive integer`);
    }
    if (c.rows.length === 0) throw new ConfigError(`specialistCurvesSvg: specialist '${c.name}' has no history rows`);
  }

  const values: Array<{ series: string; kind: 'specialist' | 'mean'; split: 'validation' | 'train'; progress: number; rmse: number }> = [];
  const push = (series: string, kind: 'specialist' | 'mean', split: 'validation' | 'train', curve: readonly number[]) => {
    curve.forEach((rmse, i) => {
      if (Number.isFinite(rmse)) values.push({ series, kind, split, progress: (i * 100) / points, rmse });
    });
  };
  const labels = curves.map((c) => `${c.name} (${c.outputs})`);
  const validCurves = curves.map((c) => rebin(c.rows.map((r) => rmsePx(r.validLoss)), points));
  curves.forEach((c, k) => {
    push(labels[k], 'specialist', 'validation', validCurves[k]);
    push(labels[k], 'specialist', 'train', rebin(c.rows.map((r) => rmsePx(r.trainLoss)), points));
  });
  push('mean', 'mean', 'validation', weightedMeanCurve(validCurves, curves.map((c) => c.outputs)));

  const spec: vegaLite.TopLevelSpec = {
    ...chartFrame(options, 'Specialists: learning curves'),
    data: { values },
    encoding: {
      x: { field: 'progress', type: 'quantitative', title: 'training progress (% of each specialist’s epochs)', scale: { domain: [0, 100] } },
      y: {
        field: 'rmse',
        type: 'quantitative',
        title: 'RMSE (px)',
        scale: options.yDomain ? { domain: [...options.yDomain], clamp: true } : { zero: false },
      },
      color: {
        field: 'series',
        type: 'nominal',
        title: 'specialist',
        legend: { labelLimit: 400 },
        scale: { domain: [...labels, 'mean'], range: [...labels.map((_, k) => SPECIALIST_COLORS[k % SPECIALIST_COLORS.length]), MEAN_COLOR] },
      },
    },
    layer: [
      {
        transform: [{ filter: "datum.kind === 'specialist'" }],
        mark: { type: 'line', strokeWidth: 2, clip: true },
        encoding: {
          strokeDash: { field: 'split', type: 'nominal', title: 'split', sort: ['validation', 'train'] },
          opacity: { field: 'split', type: 'nominal', title: 'split', sort: ['validation', 'train'], scale: { range: [1, 0.6] } },
          detail: { field: 'split' },
        },
      },
      {
        transform: [{ filter: "datum.kind === 'mean'" }],
        mark: { type: 'line', strokeWidth: 4, opacity: 0.8, clip: true },
      },
    ],
  };
  return vegaLiteSvg(spec);
}
