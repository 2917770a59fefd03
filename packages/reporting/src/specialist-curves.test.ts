import { describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import type { HistoryRow } from '@keypoints/core/node';
import { rebin, specialistCurvesSvg, weightedMeanCurve } from './index.js';

/** History rows whose validation RMSE is `valid(e)` px and training RMSE `train(e)` px (loss = (px / 48)²). */
function history(epochs: number, valid: (e: number) => number, train = (e: number) => valid(e) * 0.8): HistoryRow[] {
  return Array.from({ length: epochs }, (_, e) => ({
    epoch: e,
    trainLoss: (train(e) / 48) ** 2,
    trainRmsePx: train(e),
    validLoss: (valid(e) / 48) ** 2,
    validRmsePx: valid(e),
    learningRate: 0.01,
    momentum: 0.9,
    durationMs: 10,
  }));
}

describe('rebin (kfkd.py rebin)', () => {
  it('takes indices floor(i × n / points)', () => {
    expect(rebin([10, 20, 30, 40, 50], 2)).toEqual([10, 30]);
    expect(rebin([10, 20, 30, 40, 50], 4)).toEqual([10, 20, 30, 40]); // floor(0, 1.25, 2.5, 3.75)
    const long = rebin(Array.from({ length: 250 }, (_, i) => i));
    expect(long).toHaveLength(100);
    expect(long.slice(0, 6)).toEqual([0, 2, 5, 7, 10, 12]); // floor(2.5 i)
    expect(long[99]).toBe(247);
  });

  it('repeats the values of a curve shorter than the points', () => {
    const short = rebin([7, 8, 9]);
    expect(short).toHaveLength(100);
    // floor(3i / 100): i 0..33 → 0, 34..66 → 1, 67..99 → 2
    expect(short.filter((v) => v === 7)).toHaveLength(34);
    expect(short.filter((v) => v === 8)).toHaveLength(33);
    expect(short.filter((v) => v === 9)).toHaveLength(33);
    expect(short[33]).toBe(7);
    expect(short[34]).toBe(8);
    expect(short[67]).toBe(9);
  });

  it('leaves a curve of exactly `points` values unchanged', () => {
    const c = Array.from({ length: 100 }, (_, i) => i * i);
    expect(rebin(c, 100)).toEqual(c);
  });

  it('rejects an empty curve and a bad point count', () => {
    expect(() => rebin([])).toThrow(ConfigError);
    expect(() => rebin([1, 2], 0)).toThrow(ConfigError);
    expect(() => rebin([1, 2], 2.5)).toThrow(ConfigError);
  });
});

describe('weightedMeanCurve', () => {
  it('weights the curves by normalised weights', () => {
    expect(weightedMeanCurve([[1, 2], [4, 8]], [3, 1])).toEqual([1.75, 3.5]);
    // Nouri's six specialists: 4, 2, 6, 2, 8, 8 output units (30 in all)
    const constant = [1, 2, 3, 4, 5, 6].map((v) => [v, v, v]);
    const mean = weightedMeanCurve(constant, [4, 2, 6, 2, 8, 8]);
    const expected = (4 * 1 + 2 * 2 + 6 * 3 + 2 * 4 + 8 * 5 + 8 * 6) / 30; // 122 / 30
    mean.forEach((v) => expect(v).toBeCloseTo(expected, 12));
  });

  it('is NaN where a curve has no value', () => {
    expect(weightedMeanCurve([[1, NaN, 3], [3, 3, 3]], [1, 1])).toEqual([2, NaN, 3]);
  });

  it('rejects mismatched curves and weights', () => {
    expect(() => weightedMeanCurve([], [])).toThrow(ConfigError);
    expect(() => weightedMeanCurve([[1, 2], [1]], [1, 1])).toThrow(/rebin/);
    expect(() => weightedMeanCurve([[1], [2]], [1])).toThrow(ConfigError);
    expect(() => weightedMeanCurve([[1], [2]], [1, -1])).toThrow(ConfigError);
    expect(() => weightedMeanCurve([[1], [2]], [0, 0])).toThrow(ConfigError);
  });
});

describe('specialistCurvesSvg', () => {
  const curves = [
    { name: 'eye_center', outputs: 4, rows: history(300, (e) => 1.5 + 3 * Math.exp(-e / 50)) },
    { name: 'nose_tip', outputs: 2, rows: history(120, (e) => 2 + 3 * Math.exp(-e / 20)) },
    { name: 'eyebrows', outputs: 8, rows: history(1000, (e) => 2.5 + 2 * Math.exp(-e / 200)) },
  ];

  it('renders every specialist (valid solid, train dashed) and the red, thicker weighted mean', async () => {
    const svg = await specialistCurvesSvg(curves, { title: 'specialists' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('RMSE (px)');
    for (const label of ['eye_center (4)', 'nose_tip (2)', 'eyebrows (8)', 'mean', 'validation', 'train']) expect(svg).toContain(label);
    // the mean: one red line, 4 px wide
    const red = svg.match(/<path[^>]*stroke="#d62728"[^>]*>/g) ?? [];
    expect(red.some((p) => p.includes('stroke-width="4"'))).toBe(true);
    // dashed train lines
    expect(svg).toContain('stroke-dasharray');
  });

  it('plots the mean from sqrt(loss) × 48, rebinned and weighted by outputs', async () => {
    // Constant curves 2 px (4 outputs) and 5 px (2 outputs): the mean is (4·2 + 2·5) / 6 = 3 px, a flat line
    // one third of the way from 2 to 5 on a [2, 5] y axis.
    const flat = [
      { name: 'a', outputs: 4, rows: history(37, () => 2, () => 2) },
      { name: 'b', outputs: 2, rows: history(250, () => 5, () => 5) },
    ];
    const height = 300;
    const svg = await specialistCurvesSvg(flat, { yDomain: [2, 5], height });
    const mean = (svg.match(/<path[^>]*stroke="#d62728"[^>]*>/g) ?? []).find((p) => p.includes('stroke-width="4"'));
    expect(mean).toBeDefined();
    const ys = [...mean!.matchAll(/[ML][\d.-]+,([\d.-]+)/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(100);
    for (const y of ys) expect(y).toBeCloseTo((height * 2) / 3, 1); // y = 3 px → 2/3 of the way down from 5
  });

  it('skips epochs without a validation loss (null in history.json)', async () => {
    const rows = history(10, () => 2).map((r, e) => (e < 3 ? { ...r, validLoss: null as unknown as number } : r));
    const svg = await specialistCurvesSvg([{ name: 'x', outputs: 2, rows }]);
    expect(svg.startsWith('<svg')).toBe(true);
  });

  it('rejects no curves, empty histories, bad outputs and duplicate names', async () => {
    await expect(specialistCurvesSvg([])).rejects.toThrow(ConfigError);
    await expect(specialistCurvesSvg([{ name: 'a', outputs: 2, rows: [] }])).rejects.toThrow(/no history rows/);
    await expect(specialistCurvesSvg([{ name: 'a', outputs: 0, rows: curves[0].rows }])).rejects.toThrow(ConfigError);
    await expect(specialistCurvesSvg([curves[0], curves[0]])).rejects.toThrow(/unique/);
  });
});
