import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  DataNotFoundError,
  IMAGE_PIXELS,
  IMAGE_SIZE,
  FULL_KEYPOINT_SET,
  KAGGLE_COLUMNS,
  consoleLogger,
  type Logger,
} from '@keypoints/core';
import { flipSamples } from '@keypoints/data';
import { loadModel } from '@keypoints/models';
import { initBackend } from '@keypoints/pipeline';
import { SPECIALISTS_MANIFEST, readSpecialistsManifest, type TrainConfig } from '@keypoints/pipeline';
import { keypointSetOf, readRunConfig } from '@keypoints/pipeline';

/** Images per `model.predict` call in {@link KeypointPredictor.predict}. */
export const DEFAULT_PREDICT_BATCH = 256;

/** One model of a predictor: a single run, or one specialist of an ensemble. */
export interface PredictorMember {
  /** The run's name (`config.json` `name`), or the specialist's name in `specialists.json`. */
  readonly name: string;
  /** Absolute run directory. */
  readonly runDir: string;
  /** The run's keypoint set name (`full` or a specialist group). */
  readonly keypoints: string;
  /** Kaggle columns of the model's outputs, in output order. */
  readonly columns: readonly string[];
  /** The run's validated `config.json`. */
  readonly config: TrainConfig;
}

/**
 * Predicts Kaggle keypoints with one trained run or with an ensemble of specialists (Nouri 2014:
 * each specialist predicts its own group of columns; together they cover all 30).
 */
export interface KeypointPredictor {
  /** `model`: one run directory; `specialists`: an ensemble from a specialists folder. */
  readonly kind: 'model' | 'specialists';
  /** Absolute path of the folder it was loaded from. */
  readonly dir: string;
  /** Which of the 30 Kaggle columns it predicts, in Kaggle order. */
  readonly columns: readonly string[];
  /** The runs it is made of (one for `model`), in manifest order. */
  readonly members: readonly PredictorMember[];
  /**
   * Predict `count` faces.
   *
   * @param images `[count, 96, 96, 1]` float32 in [0, 1] (pixel / 255), NHWC, row-major.
   * @param count number of faces.
   * @returns `[count, 30]` float32 in Kaggle column order, **normalized** `(px − 48) / 48`; `NaN` in the
   *   columns it does not predict.
   * @throws {ConfigError} when `images.length !== count × 9216`.
   */
  predict(images: Float32Array, count: number): Float32Array;
  /** Free the models' tensors. */
  dispose(): void;
}

/** Options of {@link loadPredictor}. */
export interface LoadPredictorOptions {
  /** tfjs backend; default the (first) run's `config.json` backend, else the default chain. */
  readonly backend?: string;
  /** Images per `model.predict` call, default {@link DEFAULT_PREDICT_BATCH} (256). */
  readonly batchSize?: number;
  /**
   * Test-time flip averaging: also predict the mirrored faces, mirror those keypoints back (x mirrored
   * about the image centre, left/right columns swapped, as the training flip does) and average the two.
   * Twice the inference cost. Default false.
   */
  readonly flipTta?: boolean;
  readonly logger?: Logger;
}

/**
 * Load a predictor from a run directory (`config.json` + `model/`) or a specialists folder
 * (`specialists.json`, each specialist's run directory relative to it).
 *
 * A run's model predicts the columns of its `config.json` `keypoints` set (`full`, the default when
 * the field is absent: all 30; or a specialist group). An ensemble places each specialist's outputs in
 * its own columns; specialists whose `status` is `failed` (or `cancelled` without a saved model) are
 * skipped with a warning, so their columns are not predicted. The backend is initialised here (see
 * {@link LoadPredictorOptions.backend}).
 *
 * @param dir a run directory (e.g. `runs/net6`) or a specialists folder (e.g. `runs/specialists`).
 * @throws {DataNotFoundError} when `dir` is missing or is neither kind of folder, or a specialist's run
 *   directory has no `config.json`.
 * @throws {DataFormatError} for a `specialists.json` that is not JSON or not a valid manifest (one line
 *   naming the file and the bad fields; see `readSpecialistsManifest`).
 * @throws {ConfigError} for an invalid `config.json`; a specialist whose `columns`
 *   differ from its run's keypoint set; two specialists predicting the same column; a model whose output
 *   width is not its keypoint set's column count; no usable specialist.
 * @throws {ModelIOError} when a `model/` folder cannot be loaded.
 *
 * @example
 * ```ts
 * const predictor = await loadPredictor('runs/specialists');
 * const normalized = predictor.predict(dataset.images, dataset.count); // [count, 30], NaN = not predicted
 * predictor.dispose();
 * ```
 */
export async function loadPredictor(dirArg: string, options: LoadPredictorOptions = {}): Promise<KeypointPredictor> {
  const dir = resolve(dirArg);
  const logger = options.logger ?? consoleLogger;
  const batchSize = options.batchSize ?? DEFAULT_PREDICT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  const kind = await folderKind(dir);
  const members = kind === 'model' ? [await readMember(dir)] : await readSpecialists(dir, logger);

  const owner = new Map<string, string>();
  for (const m of members) {
    for (const c of m.columns) {
      const other = owner.get(c);
      if (other !== undefined) {
        throw new ConfigError(
          `${join(dir, SPECIALISTS_MANIFEST)}: specialists '${other}' and '${m.name}' both predict '${c}'; expected each column from at most one specialist`,
        );
      }
      owner.set(c, m.name);
    }
  }

  await initBackend(options.backend ?? members[0].config.backend, logger);
  const models: tf.LayersModel[] = [];
  try {
    for (const m of members) {
      const model = await loadModel(join(m.runDir, 'model'));
      models.push(model);
      const width = model.outputs[0].shape.at(-1);
      if (width !== m.columns.length) {
        throw new ConfigError(
          `${join(m.runDir, 'model')}: the model outputs ${String(width)} values, but config.json keypoints '${m.keypoints}' needs ${m.columns.length} (${m.columns.join(', ')})`,
        );
      }
    }
  } catch (error) {
    for (const model of models) model.dispose();
    throw error;
  }
  const targets = members.map((m) => m.columns.map((c) => KAGGLE_COLUMNS.indexOf(c)));
  const k = KAGGLE_COLUMNS.length;
  return {
    kind,
    dir,
    columns: KAGGLE_COLUMNS.filter((c) => owner.has(c)),
    members,
    predict(images: Float32Array, count: number): Float32Array {
      if (!Number.isInteger(count) || count < 0 || images.length !== count * IMAGE_PIXELS) {
        throw new ConfigError(`predict: images hold ${images.length} values; expected count × 9216 = ${count} × ${IMAGE_PIXELS}`);
      }
      const out = predictColumns(images, count);
      if (options.flipTta) averageWithMirrored(out, images, count, predictColumns);
      return out;
    },
    dispose(): void {
      for (const model of models) model.dispose();
    },
  };

  function predictColumns(images: Float32Array, count: number): Float32Array {
      const out = new Float32Array(count * k).fill(NaN);
      for (let start = 0; start < count; start += batchSize) {
        const size = Math.min(batchSize, count - start);
        tf.tidy(() => {
          const x = tf.tensor4d(images.subarray(start * IMAGE_PIXELS, (start + size) * IMAGE_PIXELS), [size, IMAGE_SIZE, IMAGE_SIZE, 1]);
          models.forEach((model, mi) => {
            const y = (model.predict(x) as tf.Tensor).dataSync();
            const cols = targets[mi];
            const w = cols.length;
            for (let i = 0; i < size; i++) {
              for (let j = 0; j < w; j++) out[(start + i) * k + cols[j]] = y[i * w + j];
            }
          });
        });
      }
      return out;
  }
}

/**
 * Test-time flip averaging in place: `out` (`[count, 30]` normalized, Kaggle order, NaN = not predicted)
 * becomes the mean of itself and the prediction on the mirrored faces mapped back (the training flip's
 * `flipSamples`: x mirrored about the image centre under the pixel-centre convention, left/right swapped).
 */
function averageWithMirrored(out: Float32Array, images: Float32Array, count: number, predict: (images: Float32Array, count: number) => Float32Array): void {
  const all = [...Array(count).keys()];
  const mirrored = { size: count, images: images.slice(), targets: new Float32Array(count * KAGGLE_COLUMNS.length), mask: new Float32Array(count * KAGGLE_COLUMNS.length) };
  flipSamples(mirrored, all, FULL_KEYPOINT_SET);
  const flipped = predict(mirrored.images, count);
  // Map the mirrored faces' keypoints back: the same flip on the predictions (the images flip back too).
  const back = { size: count, images: mirrored.images, targets: flipped, mask: flipped.map((v) => (Number.isNaN(v) ? 0 : 1)) };
  flipSamples(back, all, FULL_KEYPOINT_SET);
  for (let i = 0; i < out.length; i++) out[i] = ((out[i] as number) + (back.targets[i] as number)) / 2;
}

/** `model` for a run directory, `specialists` for a specialists folder. */
async function folderKind(dir: string): Promise<'model' | 'specialists'> {
  const isFile = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() ?? false;
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new DataNotFoundError(
      `${dir}: no such folder; expected a run directory (config.json + model/) or a specialists folder (${SPECIALISTS_MANIFEST})`,
    );
  }
  if (await isFile(join(dir, SPECIALISTS_MANIFEST))) return 'specialists';
  if (await isFile(join(dir, 'config.json'))) return 'model';
  throw new DataNotFoundError(
    `${dir}: neither a run directory (no config.json) nor a specialists folder (no ${SPECIALISTS_MANIFEST}); ` +
      "train one with 'keypoints train' or 'keypoints train-specialists'",
  );
}

/** A run directory's config and the columns its model predicts. */
async function readMember(runDir: string, name?: string): Promise<PredictorMember> {
  const config = await readRunConfig(runDir);
  // Runs written before the `keypoints` field existed predict all 30 columns.
  const keypoints = (config as Partial<TrainConfig>).keypoints ?? 'full';
  const set = keypointSetOf({ keypoints });
  return { name: name ?? config.name ?? config.model, runDir, keypoints: set.name, columns: set.columns, config };
}

async function readSpecialists(dir: string, logger: Logger): Promise<PredictorMember[]> {
  const file = join(dir, SPECIALISTS_MANIFEST);
  const manifest = await readSpecialistsManifest(dir);
  const members: PredictorMember[] = [];
  for (const [i, s] of manifest.specialists.entries()) {
    // `completed` (also after early stopping) is used; a `cancelled` one with a warning when its model
    // was saved; a `failed` one is skipped. No status (a hand-written manifest): used.
    if (s.status !== undefined && s.status !== 'completed') {
      const saved = await stat(join(resolve(dir, s.runDir), 'model', 'model.json')).catch(() => undefined);
      if (s.status !== 'cancelled' || !saved) {
        logger.warn(`${file}: specialist '${s.name}' has status '${s.status}'${saved ? '' : ' and no saved model'}; skipped (its columns are not predicted)`);
        continue;
      }
      logger.warn(`${file}: specialist '${s.name}' was cancelled before its last epoch; using its model as saved`);
    }
    const member = await readMember(resolve(dir, s.runDir), s.name).catch((error: unknown) => {
      if (error instanceof DataNotFoundError) {
        throw new DataNotFoundError(`${file}: specialists[${i}] '${s.name}': ${error.message}`, { cause: error });
      }
      throw error;
    });
    if (s.columns.join(',') !== member.columns.join(',')) {
      throw new ConfigError(
        `${file}: specialists[${i}] '${s.name}' lists columns ${s.columns.join(', ')}, but its run ${member.runDir} ` +
          `predicts keypoints '${member.keypoints}': ${member.columns.join(', ')}`,
      );
    }
    members.push(member);
  }
  if (members.length === 0) throw new ConfigError(`${file}: no usable specialist (every one was skipped)`);
  return members;
}
