import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataNotFoundError, consoleLogger, parseJsonText, toPixels, type Logger } from '@keypoints/core';
import { readHistory, writeFileAtomic } from '@keypoints/core/node';
import { loadModel } from '@keypoints/models';
import {
  faceGridSvg,
  learningCurveSvg,
  specialistCurvesSvg,
  summaryMarkdown,
  svgToPng,
  type RunMetrics,
  type SpecialistCurve,
} from '@keypoints/reporting';
import { initBackend } from '@keypoints/pipeline';
import { SPECIALISTS_MANIFEST, readSpecialistsManifest } from '@keypoints/pipeline';
import { loadRunData, readRunConfig, splitKey } from '@keypoints/pipeline';

/** What {@link plotRuns} wrote. */
export interface PlotResult {
  readonly files: string[];
}


/**
 * Read the specialists of a folder holding a `specialists.json` manifest (read and validated by
 * `readSpecialistsManifest`: `runDir` relative to the manifest's folder, each a normal run directory
 * with a `history.json`), as the curves of `specialistCurvesSvg`: name, outputs (`columns.length`)
 * and history rows, in manifest order.
 *
 * @throws {DataNotFoundError} when the manifest or a specialist's `history.json` cannot be read.
 * @throws {DataFormatError} when the manifest is not JSON or not a valid manifest (not of kind
 *   `specialists`, no specialists, an entry without a `name`, a `runDir` or its `columns`); the
 *   message names the file and the fields.
 */
export async function readSpecialistCurves(dir: string): Promise<SpecialistCurve[]> {
  const manifest = await readSpecialistsManifest(dir);
  const curves: SpecialistCurve[] = [];
  for (const e of manifest.specialists) {
    curves.push({ name: e.name, outputs: e.columns.length, rows: await readHistory(resolve(dir, e.runDir)) });
  }
  return curves;
}

/**
 * `keypoints plot`: the learning curves of several runs on one chart (`learning-curves.svg` and
 * `.png` in `outDir`, default the first run's parent folder), and for each run a grid of 16
 * validation faces with true (green) and predicted (red) keypoints (`<run>/validation-faces.png`).
 *
 * A folder holding a `specialists.json` manifest (Nouri's six specialists) gets the specialists'
 * chart instead (Nouri 2014, kfkd.py `plot_learning_curves`, see `specialistCurvesSvg`):
 * `specialists-curves.svg` and `.png` in `outDir` (`<folder>-specialists-curves.*` when several such
 * folders are plotted, `<folder>-2-…` for a repeated folder name). It joins the learning-curve chart
 * and face grids only when it is also a run directory itself (has a `history.json`).
 */
export async function plotRuns(
  runDirs: readonly string[],
  options: { outDir?: string; faces?: number; backend?: string; logger?: Logger } = {},
): Promise<PlotResult> {
  const logger = options.logger ?? consoleLogger;
  const dirs = runDirs.map((d) => resolve(d));
  const outDir = resolve(options.outDir ?? dirname(dirs[0]));
  const files: string[] = [];
  const specialistDirs = dirs.filter((d) => existsSync(join(d, SPECIALISTS_MANIFEST)));
  const runs = dirs.filter((d) => !specialistDirs.includes(d) || existsSync(join(d, 'history.json')));
  const series = [];
  for (const dir of runs) series.push({ name: basename(dir), rows: await readHistory(dir) });
  const writeChart = async (name: string, svg: string) => {
    await writeFileAtomic(join(outDir, `${name}.svg`), svg);
    await writeFileAtomic(join(outDir, `${name}.png`), await svgToPng(svg, 144));
    files.push(join(outDir, `${name}.svg`), join(outDir, `${name}.png`));
  };
  if (series.length > 0) {
    await writeChart('learning-curves', await learningCurveSvg(series, { title: `Learning curves: ${series.map((s) => s.name).join(', ')}` }));
  }
  const chartNames = new Set<string>();
  for (const dir of specialistDirs) {
    const curves = await readSpecialistCurves(dir);
    const svg = await specialistCurvesSvg(curves, { title: `Specialists' learning curves (${basename(dir)})` });
    let prefix = basename(dir);
    for (let i = 2; chartNames.has(prefix); i++) prefix = `${basename(dir)}-${i}`;
    chartNames.add(prefix);
    await writeChart(specialistDirs.length > 1 ? `${prefix}-specialists-curves` : 'specialists-curves', svg);
  }

  const n = options.faces ?? 16;
  // Runs of one experiment usually share their data and split: load each distinct split once.
  const splits = new Map<string, ReturnType<typeof loadRunData>>();
  if (n > 0) {
    for (const dir of runs) {
      if (!existsSync(join(dir, 'model', 'model.json'))) {
        logger.warn(`${dir}: no saved model, no face grid`);
        continue;
      }
      const config = await readRunConfig(dir);
      await initBackend(options.backend ?? config.backend, logger);
      const key = splitKey(config);
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
  if (!existsSync(runsDir)) throw new DataNotFoundError(`${runsDirArg}: no such folder; expected a folder of run directories (default runs/)`);
  const names = (await readdir(runsDir)).filter((d) => existsSync(join(runsDir, d, 'metrics.json'))).sort();
  const metrics: RunMetrics[] = [];
  // The run column shows the folder: runs trained with --out but no --name share their preset's name.
  for (const d of names) {
    const file = join(runsDir, d, 'metrics.json');
    metrics.push({ ...(parseJsonText(await readFile(file, 'utf8'), file, "a run's metrics object (as 'keypoints train' writes it)") as RunMetrics), model: d });
  }
  const file = join(runsDir, 'summary.md');
  await writeFileAtomic(file, summaryMarkdown(metrics, `Runs in ${runsDirArg}`));
  return { file, runs: metrics.length };
}
