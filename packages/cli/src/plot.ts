import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { consoleLogger, toPixels, type Logger } from '@keypoints/core';
import { loadModel } from '@keypoints/models';
import {
  faceGridSvg,
  learningCurveSvg,
  summaryMarkdown,
  svgToPng,
  writeFileAtomic,
  type HistoryRow,
  type RunMetrics,
} from '@keypoints/reporting';
import { initBackend } from './backends.js';
import { loadRunData, readRunConfig } from './train.js';

/** What {@link plotRuns} wrote. */
export interface PlotResult {
  readonly files: string[];
}

/**
 * `keypoints plot`: the learning curves of several runs on one chart (`learning-curves.svg` and
 * `.png` in `outDir`, default the first run's parent folder), and for each run a grid of 16
 * validation faces with true (green) and predicted (red) keypoints (`<run>/validation-faces.png`).
 */
export async function plotRuns(
  runDirs: readonly string[],
  options: { outDir?: string; faces?: number; backend?: string; logger?: Logger } = {},
): Promise<PlotResult> {
  const logger = options.logger ?? consoleLogger;
  const dirs = runDirs.map((d) => resolve(d));
  const outDir = resolve(options.outDir ?? dirname(dirs[0]));
  const files: string[] = [];
  const series = [];
  for (const dir of dirs) {
    const rows: HistoryRow[] = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8'));
    series.push({ name: basename(dir), rows });
  }
  const svg = await learningCurveSvg(series, { title: `Learning curves: ${series.map((s) => s.name).join(', ')}` });
  await writeFileAtomic(join(outDir, 'learning-curves.svg'), svg);
  await writeFileAtomic(join(outDir, 'learning-curves.png'), await svgToPng(svg, 144));
  files.push(join(outDir, 'learning-curves.svg'), join(outDir, 'learning-curves.png'));

  const n = options.faces ?? 16;
  // Runs of one experiment usually share their data and split: load each distinct split once.
  const splits = new Map<string, ReturnType<typeof loadRunData>>();
  if (n > 0) {
    for (const dir of dirs) {
      if (!existsSync(join(dir, 'model', 'model.json'))) {
        logger.warn(`${dir}: no saved model, no face grid`);
        continue;
      }
      const config = await readRunConfig(dir);
      await initBackend(options.backend ?? config.backend, logger);
      const key = JSON.stringify([config.data, config.maxRows, config.validationFraction, config.groupBy, config.seed]);
      if (!splits.has(key)) splits.set(key, loadRunData(config));
      const { validation } = await splits.get(key)!;
      const model = await loadModel(join(dir, 'model'));
      const count = Math.min(n, validation.count);
      const k = validation.keypointSet.columns.length;
      const images = validation.images.subarray(0, count * 96 * 96);
      const pred = tf.tidy(() => (model.predict(tf.tensor4d(images, [count, 96, 96, 1])) as tf.Tensor).dataSync());
      model.dispose();
      const faces = Array.from({ length: count }, (_, i) => {
        const truth = Array.from(validation.targets.subarray(i * k, (i + 1) * k), (v, j) => (validation.mask[i * k + j] > 0 ? toPixels(v) : NaN));
        const predicted = Array.from(pred.subarray(i * k, (i + 1) * k), toPixels);
        let se = 0;
        let m = 0;
        truth.forEach((t, j) => {
          if (Number.isFinite(t)) {
            se += (t - predicted[j]) ** 2;
            m++;
          }
        });
        return { image: images.subarray(i * 9216, (i + 1) * 9216), truth, predicted, caption: `RMSE ${Math.sqrt(se / m).toFixed(2)} px` };
      });
      const grid = await faceGridSvg(faces, { title: `${basename(dir)}: validation faces (green = truth, red = predicted)` });
      await writeFileAtomic(join(dir, 'validation-faces.png'), await svgToPng(grid));
      files.push(join(dir, 'validation-faces.png'));
    }
  }
  return { files };
}

/**
 * `keypoints summary`: `summary.md` in `runsDir` with one row per run folder that has a
 * `metrics.json`, ordered by name.
 */
export async function writeSummary(runsDirArg = 'runs'): Promise<{ file: string; runs: number }> {
  const runsDir = resolve(runsDirArg);
  const names = (await readdir(runsDir)).filter((d) => existsSync(join(runsDir, d, 'metrics.json'))).sort();
  const metrics: RunMetrics[] = [];
  for (const d of names) metrics.push(JSON.parse(await readFile(join(runsDir, d, 'metrics.json'), 'utf8')));
  const file = join(runsDir, 'summary.md');
  await writeFileAtomic(file, summaryMarkdown(metrics, `Runs in ${runsDirArg}`));
  return { file, runs: metrics.length };
}
