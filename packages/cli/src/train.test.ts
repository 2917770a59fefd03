import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@keypoints/core';
import { readKaggleCsv, writeKaggleCsv } from '@keypoints/data';
import type { TrainingEvent } from '@keypoints/training';
import sharp from 'sharp';
import { DEFAULT_TRAINING_DATA, trainRun } from '@keypoints/pipeline';
import { evaluateRun, plotRuns, writeSummary } from '@keypoints/inference';

describe('keypoints train / evaluate on the embedded sample (wasm backend)', () => {
  it('net1 learns on a slice of the real sample: beats the mean-shape baseline', async () => {
    // 400 real converted faces, identity-grouped split → ~320 train / ~80 validation.
    const table = await readKaggleCsv(DEFAULT_TRAINING_DATA, { maxRows: 400 });
    const dir = await mkdtemp(join(tmpdir(), 'kp-slice-'));
    const slice = join(dir, 'slice.csv.gz');
    await writeKaggleCsv(slice, table);
    const events: TrainingEvent['type'][] = [];
    const { metrics } = await trainRun(
      { model: 'net1', data: slice, epochs: 120, backend: 'wasm', out: join(dir, 'run') },
      { progress: false, logger: silentLogger, onEvent: (e) => void events.push(e.type) },
    );
    expect(events.filter((t) => t === 'epochEnd')).toHaveLength(120);
    expect(metrics.trainCount + metrics.validationCount).toBe(400);
    expect(metrics.baselineValidRmsePx).toBeGreaterThan(4);
    // It learned: validation RMSE falls well below where it started and below the baseline.
    const history = JSON.parse(await readFile(join(dir, 'run', 'history.json'), 'utf8'));
    expect(history[119].validRmsePx).toBeLessThan(history[0].validRmsePx * 0.7);
    expect(metrics.finalValidRmsePx).toBeLessThan(metrics.baselineValidRmsePx);
  });

  it('warns about keypoint values outside the 96×96 frame, naming the file, row and column', async () => {
    const table = await readKaggleCsv(DEFAULT_TRAINING_DATA, { maxRows: 40 });
    const keypoints = Float32Array.from(table.keypoints);
    keypoints[3 * table.columns.length + 4] = 5000; // data row 4: a unit or column mix-up
    const dir = await mkdtemp(join(tmpdir(), 'kp-frame-'));
    const file = join(dir, 'outside.csv.gz');
    await writeKaggleCsv(file, { ...table, keypoints });
    const warnings: string[] = [];
    await trainRun(
      { model: 'net1', data: file, epochs: 1, backend: 'wasm', out: join(dir, 'run') },
      { progress: false, logger: { info: () => {}, warn: (m) => void warnings.push(m) } },
    );
    expect(warnings).toEqual([
      `${file}: 1 keypoint value outside the 96×96 frame (first: data row 4, column '${table.columns[4]}': 5000 px); expected pixels in [0, 96]`,
    ]);
  });

  it('writes the run directory, and evaluate reloads the model to the same RMSE', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'kp-run-')), 'net1');
    const { metrics } = await trainRun(
      { model: 'net1', epochs: 3, backend: 'wasm', out },
      { progress: false, logger: silentLogger },
    );
    for (const f of ['config.json', 'history.json', 'history.csv', 'learning-curve.svg', 'metrics.json', 'model/model.json', 'model/weights.bin']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const saved = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(saved.finalValidRmsePx).toBeCloseTo(metrics.finalValidRmsePx, 10);
    expect(saved.baselineValidRmsePx).toBeGreaterThan(0);
    expect(saved.validationCount).toBeGreaterThan(150);
    const evaluation = await evaluateRun(out, { logger: silentLogger });
    expect(evaluation.count).toBe(metrics.validationCount);
    expect(evaluation.rmsePx).toBeCloseTo(metrics.finalValidRmsePx, 4);
    expect(Object.keys(evaluation.perKeypointRmsePx)).toHaveLength(15);

    // plot + summary on the same run
    const { files } = await plotRuns([out], { faces: 4, logger: silentLogger });
    expect(files.map((f) => f.split('/').pop())).toEqual(['learning-curves.svg', 'learning-curves.png', 'validation-faces.png']);
    const png = await sharp(join(out, 'validation-faces.png')).metadata();
    expect(png.format).toBe('png');
    expect(png.width).toBeGreaterThan(4 * 192);
    const { file, runs } = await writeSummary(join(out, '..'));
    expect(runs).toBe(1);
    const md = await readFile(file, 'utf8');
    expect(md).toContain(`| net1 | 1fc_b128_e3 | 3 | ${metrics.bestValidRmsePx.toFixed(3)} |`);
  });
});
