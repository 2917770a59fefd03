import { resolve } from 'node:path';
import {
  ConfigError,
  FULL_KEYPOINT_SET,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
  KAGGLE_KEYPOINTS,
  consoleLogger,
  rmsePixelsFromMse,
  type Logger,
} from '@keypoints/core';
import { readKaggleCsv, toDataset, type Dataset } from '@keypoints/data';
import { loadPredictor, type KeypointPredictor } from './predictor.js';
import { loadRunData, splitKey } from '@keypoints/pipeline';

/** What {@link evaluateRun} measures. RMSE values in pixels. */
export interface EvaluationResult {
  readonly runDir: string;
  /** `model`: one run directory; `specialists`: an ensemble of specialists. */
  readonly kind: 'model' | 'specialists';
  /** `validation` (the run's own split) or the path of the file evaluated. */
  readonly on: string;
  /** Faces evaluated. */
  readonly count: number;
  /** RMSE over every value that is both present in the data and predicted, pixels. */
  readonly rmsePx: number;
  /**
   * Per-keypoint RMSE (x and y together), pixels, for every keypoint the model predicts and the data
   * has at least once (in Kaggle order).
   */
  readonly perKeypointRmsePx: Readonly<Record<string, number>>;
  /** Faces behind each entry of {@link perKeypointRmsePx} (fewer than `count` where keypoints are missing). */
  readonly perKeypointCount: Readonly<Record<string, number>>;
}

/**
 * Reload a run's saved model — or an ensemble of specialists — and measure its RMSE in pixels,
 * overall and per keypoint. Only values present in the data **and** predicted count (masked).
 *
 * Data, by option:
 * - default: the validation split, rebuilt from `config.json` (same file, seed, fraction, grouping).
 *   A single run: its own validation rows (for a specialist, those with its keypoints). A specialists
 *   folder: the split of the first specialist's config with all 30 columns and every row kept (missing
 *   keypoints masked) — the one validation set every specialist shares.
 * - `data`: a Kaggle-format file with keypoints (`training.csv` layout).
 * - `data` + `keypoints`: a `test.csv` (`ImageId,Image`) joined on `ImageId` with a keypoint table.
 *
 * @param runDirArg a run directory (`runs/net6`) or a specialists folder (`specialists.json`).
 * @throws {DataNotFoundError} when the folder is neither (see `loadPredictor`).
 * @throws {ConfigError} for `keypoints` without `data`, a keypoint table without the ImageIds of the
 *   test file, or specialists whose configs do not share one validation split (data, seed, fraction,
 *   grouping, row limit).
 */
export async function evaluateRun(
  runDirArg: string,
  options: { data?: string; keypoints?: string; backend?: string; flipTta?: boolean; logger?: Logger } = {},
): Promise<EvaluationResult> {
  const runDir = resolve(runDirArg);
  const logger = options.logger ?? consoleLogger;
  if (options.keypoints && !options.data) throw new ConfigError('--keypoints needs --data (the images to predict on)');
  const predictor = await loadPredictor(runDir, { ...(options.backend ? { backend: options.backend } : {}), ...(options.flipTta ? { flipTta: true } : {}), logger });
  try {
    let data: Dataset;
    if (options.data && options.keypoints) {
      data = await joinTestSet(options.data, options.keypoints);
    } else if (options.data) {
      data = toDataset(await readKaggleCsv(options.data, { columns: FULL_KEYPOINT_SET.columns }), FULL_KEYPOINT_SET, { dropIncomplete: false });
    } else {
      data = await validationOf(predictor);
    }
    const { mse, perKeypointRmsePx, perKeypointCount } = maskedErrors(predictor, toFullColumns(data));
    return {
      runDir,
      kind: predictor.kind,
      on: options.data ?? 'validation',
      count: data.count,
      rmsePx: rmsePixelsFromMse(mse),
      perKeypointRmsePx,
      perKeypointCount,
    };
  } finally {
    predictor.dispose();
  }
}

/** The validation split a predictor is evaluated on by default (see {@link evaluateRun}). */
async function validationOf(predictor: KeypointPredictor): Promise<Dataset> {
  const first = predictor.members[0].config;
  if (predictor.kind === 'model') return (await loadRunData(first)).validation;
  const other = predictor.members.find((m) => splitKey(m.config) !== splitKey(first));
  if (other) {
    throw new ConfigError(
      `${predictor.dir}: specialist '${other.name}' was split differently from '${predictor.members[0].name}' ` +
        '(data, seed, validation fraction, grouping or row limit differ), so they share no validation set; ' +
        'evaluate with --data instead',
    );
  }
  return (await loadRunData(first, { keypointSet: FULL_KEYPOINT_SET, missing: 'mask' })).validation;
}

/** The same rows with targets/mask widened to the 30 Kaggle columns (absent columns masked out). */
function toFullColumns(data: Dataset): Dataset {
  const from = data.keypointSet.columns;
  if (from.length === KAGGLE_COLUMNS.length && from.every((c, j) => c === KAGGLE_COLUMNS[j])) return data;
  const k = KAGGLE_COLUMNS.length;
  const index = from.map((c) => KAGGLE_COLUMNS.indexOf(c));
  const targets = new Float32Array(data.count * k);
  const mask = new Float32Array(data.count * k);
  for (let i = 0; i < data.count; i++) {
    index.forEach((c, j) => {
      targets[i * k + c] = data.targets[i * from.length + j];
      mask[i * k + c] = data.mask[i * from.length + j];
    });
  }
  return { ...data, keypointSet: FULL_KEYPOINT_SET, targets, mask };
}

/**
 * Join a Kaggle `test.csv` (ImageId, Image) with a keypoint table that has an `ImageId` column
 * (e.g. `packages/sample-data/data/test_keypoints.csv.gz`), row by row on ImageId.
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
    // Both files of a converted test set carry the person: a mismatch means the wrong keypoint file.
    const a = images.identities?.[i];
    const b = keypoints.identities?.[j];
    if (a !== undefined && b !== undefined && a !== b) {
      throw new ConfigError(
        `${keypointsFile}: ImageId ${id} is identity '${b}' there but '${a}' in ${imagesFile}; expected the keypoint file made with that test.csv`,
      );
    }
    joined.set(keypoints.keypoints.subarray(j * k, (j + 1) * k), i * k);
  });
  return toDataset({ ...images, columns: FULL_KEYPOINT_SET.columns, keypoints: joined }, FULL_KEYPOINT_SET, { dropIncomplete: false });
}

/**
 * One batched prediction pass: the masked MSE (normalized units) over every value present and
 * predicted, and per keypoint (x and y together) the RMSE in pixels and the number of faces.
 */
function maskedErrors(
  predictor: KeypointPredictor,
  data: Dataset,
  chunk = 1024,
): { mse: number; perKeypointRmsePx: Record<string, number>; perKeypointCount: Record<string, number> } {
  const k = KAGGLE_COLUMNS.length;
  const se = new Float64Array(k / 2);
  const n = new Float64Array(k / 2);
  const faces = new Float64Array(k / 2);
  for (let start = 0; start < data.count; start += chunk) {
    const size = Math.min(chunk, data.count - start);
    const pred = predictor.predict(data.images.subarray(start * IMAGE_PIXELS, (start + size) * IMAGE_PIXELS), size);
    for (let j = 0; j < size * k; j++) {
      const i = start * k + j;
      if (data.mask[i] > 0 && !Number.isNaN(pred[j])) {
        const d = pred[j] - data.targets[i];
        const kp = Math.floor((i % k) / 2);
        se[kp] += d * d;
        n[kp]++;
        if (i % 2 === 0) faces[kp]++; // x column: one face
      }
    }
  }
  const total = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
  const reported = KAGGLE_KEYPOINTS.map((name, j) => [name, j] as const).filter(([, j]) => n[j] > 0);
  return {
    mse: total(se) / total(n),
    perKeypointRmsePx: Object.fromEntries(reported.map(([name, j]) => [name, rmsePixelsFromMse(se[j] / n[j])])),
    perKeypointCount: Object.fromEntries(reported.map(([name, j]) => [name, faces[j]])),
  };
}
