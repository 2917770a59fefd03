import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import {
  ConfigError,
  DataNotFoundError,
  FULL_KEYPOINT_SET,
  SPECIALIST_KEYPOINT_SETS,
  TRAINER,
  consoleLogger,
  container,
  rmsePixelsFromMse,
  type KeypointSet,
  type Logger,
} from '@keypoints/core';
import {
  AffineAugmentation,
  BatchIterator,
  FlipAugmentation,
  holdoutSplit,
  applyMissingPattern,
  keypointsOutsideFrame,
  missingPatternOf,
  readKaggleCsv,
  restrictToKeypointSet,
  toDataset,
  type Augmentation,
  type Dataset,
  type OutsideFrame,
} from '@keypoints/data';
import {
  NOURI_DROPOUT,
  buildCnn,
  buildFullyConnected,
  buildSpecialist,
  cnnModelName,
  copyWeightsExceptOutput,
  loadModel,
  modelName,
  saveModel,
  specialistMaxEpochs,
} from '@keypoints/models';
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
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from './config.js';
import { resolveTrainConfig } from './presets.js';
import { ProgressCallback } from './progress.callback.js';
import { readRunConfig, keypointSetOf } from './run-config.js';
import { augmentationsOf, loadRunData } from './run-data.js';
import { buildModel, describeModel } from './run-model.js';
import { callbacksOf } from './default-callbacks.js';

/**
 * Fill the architecture of a config that names a `pretrained` run but no model preset: `model`,
 * `dense`, `dropout` and `padding` come from the pre-trained run's `config.json` (fields the input
 * gives win), so `keypoints train --keypoints nose_tip --pretrained runs/net6` builds a net6-shaped
 * specialist.
 *
 * @throws {DataNotFoundError} when the pre-trained folder has no config.json.
 */
async function withPretrainedArchitecture(input: Partial<TrainConfigInput> & { pretrained: string }): Promise<TrainConfigInput> {
  const from = await readRunConfig(resolve(input.pretrained));
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return {
    model: from.model,
    ...(from.dense ? { dense: from.dense } : {}),
    dropout: from.dropout,
    padding: from.padding,
    ...defined,
  } as TrainConfigInput;
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
export async function trainRun(input: TrainConfigInput | ResumeOverrides | (Omit<TrainConfigInput, 'model'> & { model?: undefined; pretrained: string }), options: TrainRunOptions = {}): Promise<TrainResult> {
  let resumeFrom: { dir: string; config: TrainConfig } | undefined;
  if (options.resume) {
    const dir = resolve(options.resume);
    const saved = await readRunConfig(dir);
    resumeFrom = { dir, config: { ...saved, epochs: input.epochs ?? saved.epochs, backend: input.backend ?? saved.backend, out: dir } };
  }
  if (!resumeFrom && 'pretrained' in input && input.pretrained && (input as Partial<TrainConfigInput>).model === undefined) {
    input = await withPretrainedArchitecture(input as Partial<TrainConfigInput> & { pretrained: string });
  }
  if (!resumeFrom && (!('model' in input) || input.model === undefined)) throw new ConfigError('a training config needs a model preset (net1 … net8)');
  const parsed = resumeFrom ? TrainConfigSchema.safeParse(resumeFrom.config) : resolveTrainConfig(input as TrainConfigInput);
  if (!parsed.success) {
    throw new ConfigError(
      `invalid training config: ${parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`,
    );
  }
  const logger = options.logger ?? consoleLogger;
  // A specialist's default name says its group, so it never lands in (and overwrites) its pre-trained run.
  const name = parsed.data.name ?? (parsed.data.keypoints === 'full' ? parsed.data.model : `${parsed.data.model}_${parsed.data.keypoints}`);
  const runDir = resolve(parsed.data.out ?? join('runs', name));
  if (parsed.data.pretrained && resolve(parsed.data.pretrained) === runDir) {
    throw new ConfigError(`--pretrained ${parsed.data.pretrained} is this run's own folder; give the new run another --out or --name (it would overwrite the model it starts from)`);
  }
  // Absolute paths in config.json, so evaluate / plot / --resume work from any directory.
  const config: TrainConfig = {
    ...parsed.data,
    data: resolve(parsed.data.data),
    out: runDir,
    ...(parsed.data.pretrained ? { pretrained: resolve(parsed.data.pretrained) } : {}),
    ...(parsed.data.missingLike ? { missingLike: resolve(parsed.data.missingLike) } : {}),
  };
  const backend = await initBackend(config.backend, logger, config.threads ? { threads: config.threads } : {});
  logger.info(`backend: ${backend}`);

  const data = await loadRunData(config);
  const set = keypointSetOf(config);
  logger.info(
    `data: ${config.data}: ${data.train.count} training / ${data.validation.count} validation faces` +
      (data.groupedBy === 'identity' ? ' (split by identity)' : '') +
      (set !== FULL_KEYPOINT_SET ? `, keypoints ${set.name} (${set.columns.length} columns)` : '') +
      (config.missing === 'mask' ? ', missing keypoints masked' : ''),
  );
  const outside = data.outsideFrame;
  if (outside.first) {
    const { row, column, value } = outside.first;
    logger.warn(
      `${config.data}: ${outside.count} keypoint value${outside.count === 1 ? '' : 's'} outside the 96×96 frame ` +
        `(first: data row ${row + 1}, column '${column}': ${value} px); expected pixels in [0, 96]`,
    );
  }
  if (!resumeFrom && set !== FULL_KEYPOINT_SET && input.epochs === undefined) {
    // kfkd.py: max_epochs = int(4e6 / y.shape[0]) on the specialist's rows.
    config.epochs = specialistMaxEpochs(data.train.count + data.validation.count);
    logger.info(`${name}: ${config.epochs} epochs (round(4e6 / ${data.train.count + data.validation.count} rows), kfkd.py)`);
  }
  const k = set.columns.length;
  const shape = meanShape(data.train.targets, data.train.mask, k);
  const baselineValidRmsePx = rmsePixelsFromMse(meanShapeMse(shape, data.validation.targets, data.validation.mask));

  let model: tf.LayersModel;
  let resume: TrainingState | undefined;
  if (resumeFrom) {
    const checkpoint = await loadCheckpoint(join(runDir, 'checkpoints', 'last'));
    model = checkpoint.model;
    resume = checkpoint.state;
    logger.info(`resuming ${runDir} after epoch ${resume.epochsCompleted} (checkpoint ${checkpoint.dir})`);
  } else if (config.pretrained) {
    const from = resolve(config.pretrained);
    const pretrained = await loadModel(join(from, 'model'));
    try {
      model = buildModel(config, pretrained);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(
        `--pretrained ${from} does not fit this run's model (--model ${config.model}` +
          `${config.dense ? `, --dense ${config.dense.join(',')}` : ''}, --padding ${config.padding}): ${err.message}. ` +
          'Train with the pre-trained run\'s --model, --dense and --padding (or leave --model out to take them from it).',
        { cause: err },
      );
    } finally {
      pretrained.dispose();
    }
    logger.info(`${name}: every layer but the output initialised from ${from} (supervised pre-training)`);
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
  const rows = history.entries;
  // With --resume, count the epochs trained before the restart too (history holds every epoch).
  const trainSeconds = resume ? rows.reduce((t, r) => t + (r.durationMs ?? 0), 0) / 1000 : (performance.now() - t0) / 1000;
  const last = rows.at(-1);
  const best = history.best();
  await writeHistory(runDir, rows);
  await writeFileAtomic(join(runDir, 'learning-curve.svg'), await learningCurveSvg([{ name, rows }], { title: `${name}: RMSE per epoch` }));
  await saveModel(model, join(runDir, 'model'));
  const metrics: RunMetrics = {
    model: name,
    modelName: describeModel(config),
    keypoints: set.name,
    columns: set.columns,
    ...(config.pretrained ? { pretrained: config.pretrained } : {}),
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
