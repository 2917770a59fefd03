import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import {
  ConfigError,
  DataNotFoundError,
  FULL_KEYPOINT_SET,
  TRAINER,
  consoleLogger,
  container,
  rmsePixelsFromMse,
  type Logger,
} from '@keypoints/core';
import {
  AffineAugmentation,
  BatchIterator,
  FlipAugmentation,
  holdoutSplit,
  readKaggleCsv,
  toDataset,
  type Augmentation,
  type Dataset,
} from '@keypoints/data';
import { NOURI_DROPOUT, buildCnn, buildFullyConnected, cnnModelName, modelName, saveModel } from '@keypoints/models';
import {
  CheckpointCallback,
  EarlyStoppingCallback,
  HistoryCallback,
  NanGuardCallback,
  ScheduleCallback,
  linearSchedule,
  loadCheckpoint,
  registerTraining,
  type FitEndEvent,
  type Trainer,
  type TrainingCallback,
  type TrainingEvent,
  type TrainingState,
} from '@keypoints/training';
import { learningCurveSvg, writeFileAtomic, writeHistory, writeMetrics, type RunMetrics } from '@keypoints/reporting';
import { initBackend } from './backends.js';
import { meanShape, meanShapeMse } from './baseline.js';
import { TrainConfigSchema, resolveTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
import { ProgressCallback } from './progress.callback.js';

/**
 * Read and validate a run directory's `config.json`.
 * @throws {DataNotFoundError} when it is missing; {@link ConfigError} when invalid.
 */
export async function readRunConfig(runDir: string): Promise<TrainConfig> {
  let raw: string;
  try {
    raw = await readFile(join(runDir, 'config.json'), 'utf8');
  } catch (cause) {
    throw new DataNotFoundError(`${runDir}: not a run directory (no config.json); train one with 'keypoints train'`, { cause });
  }
  const parsed = TrainConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new ConfigError(`${join(runDir, 'config.json')}: ${parsed.error.message}`);
  return parsed.data;
}

/** Data of a run after loading and splitting. */
export interface RunData {
  readonly train: Dataset;
  readonly validation: Dataset;
  readonly groupedBy: 'identity' | 'none';
}

/**
 * Load the training file of `config` and split it exactly as a training run does (same seed,
 * fraction and grouping), so `evaluate` sees the same validation set.
 */
export async function loadRunData(config: TrainConfig): Promise<RunData> {
  const table = await readKaggleCsv(config.data, {
    columns: FULL_KEYPOINT_SET.columns,
    ...(config.maxRows ? { maxRows: config.maxRows } : {}),
  });
  const dataset = toDataset(table, FULL_KEYPOINT_SET, { dropIncomplete: true });
  const hasIdentity = dataset.identities !== undefined;
  if (config.groupBy === 'identity' && !hasIdentity) {
    throw new ConfigError(`--group-by identity: ${config.data} has no Identity column`);
  }
  const groupedBy = config.groupBy === 'none' || !hasIdentity ? 'none' : 'identity';
  const { train, validation } = holdoutSplit(dataset, {
    fraction: config.validationFraction,
    seed: config.seed,
    ...(groupedBy === 'identity' ? { groupBy: 'identity' as const } : {}),
  });
  return { train, validation, groupedBy };
}

/** Build the (untrained) model of a config: fc for net1, the CNN otherwise. */
export function buildModel(config: TrainConfig): tf.LayersModel {
  const outputs = FULL_KEYPOINT_SET.columns.length;
  if (config.model === 'net1') return buildFullyConnected({ hidden: 100, outputs, seed: config.seed });
  return buildCnn({
    outputs,
    seed: config.seed,
    padding: config.padding,
    ...(config.dense ? { dense: config.dense } : {}),
    ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}),
    name: config.model,
  });
}

/** A descriptive model name in Staravoitau's style, e.g. `3con_2fc_b128_e1000_aug_lrdec_mominc_dr`. */
export function describeModel(config: TrainConfig): string {
  const run = {
    batchSize: config.batchSize,
    epochs: config.epochs,
    augment: config.flip || config.affine,
    lrDecay: config.learningRateSchedule !== undefined,
    momentumIncrease: config.momentumSchedule !== undefined,
  };
  if (config.model === 'net1') return modelName({ hiddenLayers: 1, ...run });
  return cnnModelName({ ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}) }, run);
}

/** The training-batch augmentations of a config, in order (flip, then affine). */
export function augmentationsOf(config: TrainConfig): Augmentation[] {
  return [...(config.flip ? [new FlipAugmentation()] : []), ...(config.affine ? [new AffineAugmentation()] : [])];
}

/** The control-plane callbacks a config asks for (schedules, early stopping), before history/checkpoint. */
export function callbacksOf(config: TrainConfig): TrainingCallback[] {
  const out: TrainingCallback[] = [new NanGuardCallback()];
  if (config.learningRateSchedule) {
    const { start, stop } = config.learningRateSchedule;
    out.push(new ScheduleCallback({ variable: 'learningRate', schedule: linearSchedule(start, stop) }));
  }
  if (config.momentumSchedule) {
    const { start, stop } = config.momentumSchedule;
    out.push(new ScheduleCallback({ variable: 'momentum', schedule: linearSchedule(start, stop) }));
  }
  if (config.patience) out.push(new EarlyStoppingCallback({ patience: config.patience }));
  return out;
}

/** With `TrainRunOptions.resume`, only these may change from the saved config. */
export interface ResumeOverrides {
  readonly epochs?: number;
  readonly backend?: string;
}

/** What {@link trainRun} returns. */
export interface TrainResult {
  readonly runDir: string;
  readonly metrics: RunMetrics;
  readonly end: FitEndEvent;
}

/** Options of {@link trainRun} that are not part of the saved config. */
export interface TrainRunOptions {
  /** Extra callback plugins for this run. */
  readonly callbacks?: readonly TrainingCallback[];
  /** Continue the run in this directory from its last checkpoint (its `config.json` is used; `input` may only change `epochs` and `backend`). */
  readonly resume?: string;
  /** Observer of the training-event stream. */
  readonly onEvent?: (event: TrainingEvent) => void;
  /** Show progress on stderr; default true. */
  readonly progress?: boolean;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/**
 * Run one training end to end: backend, data, model, Trainer (in a child DI container), then
 * write the run directory `runs/<name>/`: `config.json`, `history.json`, `history.csv`,
 * `learning-curve.svg`, `metrics.json` and `model/` (TensorFlow.js layers format).
 *
 * @throws {ConfigError} on invalid settings; {@link DataFormatError} on bad data;
 * {@link BackendInitError} when the backend cannot load.
 */
export async function trainRun(input: TrainConfigInput | ResumeOverrides, options: TrainRunOptions = {}): Promise<TrainResult> {
  let resumeFrom: { dir: string; config: TrainConfig } | undefined;
  if (options.resume) {
    const dir = resolve(options.resume);
    const saved = await readRunConfig(dir);
    resumeFrom = { dir, config: { ...saved, epochs: input.epochs ?? saved.epochs, backend: input.backend ?? saved.backend, out: dir } };
  }
  if (!resumeFrom && !('model' in input)) throw new ConfigError('a training config needs a model preset (net1 … net8)');
  const parsed = resumeFrom ? TrainConfigSchema.safeParse(resumeFrom.config) : resolveTrainConfig(input as TrainConfigInput);
  if (!parsed.success) {
    throw new ConfigError(`invalid training config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const logger = options.logger ?? consoleLogger;
  const name = parsed.data.name ?? parsed.data.model;
  const runDir = resolve(parsed.data.out ?? join('runs', name));
  // Absolute paths in config.json, so evaluate / plot / --resume work from any directory.
  const config: TrainConfig = { ...parsed.data, data: resolve(parsed.data.data), out: runDir };
  const backend = await initBackend(config.backend, logger);
  logger.info(`backend: ${backend}`);

  const data = await loadRunData(config);
  logger.info(
    `data: ${config.data}: ${data.train.count} training / ${data.validation.count} validation faces` +
      (data.groupedBy === 'identity' ? ' (split by identity)' : ''),
  );
  const k = FULL_KEYPOINT_SET.columns.length;
  const shape = meanShape(data.train.targets, data.train.mask, k);
  const baselineValidRmsePx = rmsePixelsFromMse(meanShapeMse(shape, data.validation.targets, data.validation.mask));

  let model: tf.LayersModel;
  let resume: TrainingState | undefined;
  if (resumeFrom) {
    const checkpoint = await loadCheckpoint(join(runDir, 'checkpoints', 'last'));
    model = checkpoint.model;
    resume = checkpoint.state;
    logger.info(`resuming ${runDir} after epoch ${resume.epochsCompleted} (checkpoint ${checkpoint.dir})`);
  } else {
    model = buildModel(config);
  }
  const history = new HistoryCallback();
  const run = container.createChildContainer();
  registerTraining(run, {
    trainer: { learningRate: config.learningRate, momentum: config.momentum },
    callbacks: [
      ...callbacksOf(config),
      history,
      new CheckpointCallback({ dir: join(runDir, 'checkpoints') }),
      ...(options.progress === false ? [] : [new ProgressCallback(name)]),
      ...(options.callbacks ?? []),
    ],
  });
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, 'config.json'), JSON.stringify({ ...config, name }, null, 2) + '\n');
  const batches = new BatchIterator(data.train, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augmentations: augmentationsOf(config),
  });
  const t0 = performance.now();
  let end: FitEndEvent | undefined;
  try {
    const trainer = run.resolve<Trainer>(TRAINER);
    await lastValueFrom(
      trainer
        .fit(model, batches, data.validation, {
          epochs: config.epochs,
          batchEvents: false,
          ...(options.signal ? { signal: options.signal } : {}),
          ...(resume ? { resume } : {}),
        })
        .pipe(
          tap((e) => {
            options.onEvent?.(e);
            if (e.type === 'fitEnd') end = e;
          }),
        ),
    );
  } finally {
    await run.dispose();
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const rows = history.entries;
  const last = rows.at(-1);
  const best = history.best();
  await writeHistory(runDir, rows);
  await writeFileAtomic(join(runDir, 'learning-curve.svg'), await learningCurveSvg([{ name, rows }], { title: `${name}: RMSE per epoch` }));
  await saveModel(model, join(runDir, 'model'));
  const metrics: RunMetrics = {
    model: name,
    modelName: describeModel(config),
    parameters: model.countParams(),
    epochs: rows.length,
    finalValidRmsePx: last?.validRmsePx ?? NaN,
    bestValidRmsePx: best?.validRmsePx ?? NaN,
    bestEpoch: best ? best.epoch + 1 : 0,
    finalTrainRmsePx: last?.trainRmsePx ?? NaN,
    baselineValidRmsePx,
    improvementOverBaseline: last ? 1 - last.validRmsePx / baselineValidRmsePx : NaN,
    trainCount: data.train.count,
    validationCount: data.validation.count,
    backend,
    trainSeconds: Math.round(trainSeconds * 10) / 10,
    status: end?.status ?? 'unknown',
    ...(end?.stopReason ? { stopReason: end.stopReason } : {}),
    data: config.data,
    splitGroupedBy: data.groupedBy,
  };
  await writeMetrics(runDir, metrics);
  model.dispose();
  return { runDir, metrics, end: end! };
}
