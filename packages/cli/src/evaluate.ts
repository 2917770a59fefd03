import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, FULL_KEYPOINT_SET, KAGGLE_KEYPOINTS, consoleLogger, rmsePixelsFromMse, type Logger } from '@keypoints/core';
import { readKaggleCsv, toDataset, type Dataset } from '@keypoints/data';
import { loadModel } from '@keypoints/models';
import { initBackend } from './backends.js';
import { loadRunData, readRunConfig } from './train.js';

/** What {@link evaluateRun} measures. RMSE values in pixels. */
export interface EvaluationResult {
  readonly runDir: string;
  /** `validation` (the run's own split) or the path of the file evaluated. */
  readonly on: string;
  readonly count: number;
  readonly rmsePx: number;
  /** Per-keypoint RMSE (x and y together), pixels. */
  readonly perKeypointRmsePx: Readonly<Record<string, number>>;
}

/**
 * Reload a run's saved model and measure its RMSE in pixels: on the run's own validation split
 * (rebuilt from `config.json`: same file, seed, fraction, grouping), or on another Kaggle-format
 * file with keypoints.
 *
 * @throws {DataNotFoundError} when `runDir` has no `config.json`.
 */
export async function evaluateRun(
  runDirArg: string,
  options: { data?: string; keypoints?: string; backend?: string; logger?: Logger } = {},
): Promise<EvaluationResult> {
  const runDir = resolve(runDirArg);
  const logger = options.logger ?? consoleLogger;
  const config = await readRunConfig(runDir);
  await initBackend(options.backend ?? config.backend, logger);
  const model = await loadModel(join(runDir, 'model'));
  let data: Dataset;
  if (options.data && options.keypoints) {
    data = await joinTestSet(options.data, options.keypoints);
  } else if (options.data) {
    data = toDataset(await readKaggleCsv(options.data, { columns: FULL_KEYPOINT_SET.columns }), FULL_KEYPOINT_SET, { dropIncomplete: false });
  } else if (options.keypoints) {
    throw new ConfigError('--keypoints needs --data (the images to predict on)');
  } else {
    data = (await loadRunData(config)).validation;
  }
  const { mse, perKeypointRmsePx } = squaredErrors(model, data);
  model.dispose();
  return { runDir, on: options.data ?? 'validation', count: data.count, rmsePx: rmsePixelsFromMse(mse), perKeypointRmsePx };
}

/**
 * Join a Kaggle `test.csv` (ImageId, Image) with a keypoint table that has an `ImageId` column
 * (e.g. `data/sample/test_keypoints.csv.gz`), row by row on ImageId.
 */
async function joinTestSet(imagesFile: string, keypointsFile: string): Promise<Dataset> {
  const images = await readKaggleCsv(imagesFile, { columns: [] });
  const keypoints = await readKaggleCsv(keypointsFile, { columns: FULL_KEYPOINT_SET.columns, requireImage: false });
  if (!images.imageIds || !keypoints.imageIds) {
    throw new ConfigError(`${!images.imageIds ? imagesFile : keypointsFile}: no ImageId column to join on`);
  }
  const row = new Map(keypoints.imageIds.map((id, i) => [id, i]));
  const k = FULL_KEYPOINT_SET.columns.length;
  const joined = new Float32Array(images.count * k);
  images.imageIds.forEach((id, i) => {
    const j = row.get(id);
    if (j === undefined) throw new ConfigError(`${keypointsFile}: no keypoints for ImageId ${id} of ${imagesFile}`);
    joined.set(keypoints.keypoints.subarray(j * k, (j + 1) * k), i * k);
  });
  return toDataset({ ...images, columns: FULL_KEYPOINT_SET.columns, keypoints: joined }, FULL_KEYPOINT_SET, { dropIncomplete: false });
}

/**
 * One batched prediction pass: the masked MSE (normalized units) overall and the RMSE (px) per
 * keypoint (x and y together).
 */
function squaredErrors(
  model: tf.LayersModel,
  data: Dataset,
  batchSize = 256,
): { mse: number; perKeypointRmsePx: Record<string, number> } {
  const k = FULL_KEYPOINT_SET.columns.length;
  const se = new Float64Array(k / 2);
  const n = new Float64Array(k / 2);
  for (let start = 0; start < data.count; start += batchSize) {
    const size = Math.min(batchSize, data.count - start);
    const images = data.images.subarray(start * 9216, (start + size) * 9216);
    const pred = tf.tidy(() => (model.predict(tf.tensor4d(images, [size, 96, 96, 1])) as tf.Tensor).dataSync());
    for (let j = 0; j < size * k; j++) {
      const i = start * k + j;
      if (data.mask[i] > 0) {
        const d = pred[j] - data.targets[i];
        se[Math.floor((i % k) / 2)] += d * d;
        n[Math.floor((i % k) / 2)]++;
      }
    }
  }
  const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  return {
    mse: total(se) / total(n),
    perKeypointRmsePx: Object.fromEntries(KAGGLE_KEYPOINTS.map((name, j) => [name, rmsePixelsFromMse(se[j] / n[j])])),
  };
}
