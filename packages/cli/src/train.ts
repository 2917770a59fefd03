import { mkdir, readFile } from 'node:fs/promises';
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
import { KEYPOINT_SET_NAMES, TrainConfigSchema, resolveTrainConfig, type TrainConfig, type TrainConfigInput } from './config.js';
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
  /** Keypoint values of the file outside the 96×96 frame (warned about by `trainRun`). */
  readonly outsideFrame: OutsideFrame;
}

/** Options of {@link loadRunData}. */
export interface LoadRunDataOptions {
  /** Keypoint set to narrow to; default the run's (`config.keypoints`). */
  readonly keypointSet?: KeypointSet;
  /** `drop` rows missing a column of the set, or `mask` them; default the run's (`config.missing`). */
  readonly missing?: 'drop' | 'mask';
}

/** The {@link KeypointSet} of a config's `keypoints` name (`full` or a specialist group). */
export function keypointSetOf(config: Pick<TrainConfig, 'keypoints'>): KeypointSet {
  if (config.keypoints === 'full') return FULL_KEYPOINT_SET;
  const set = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === config.keypoints);
  if (!set) throw new ConfigError(`unknown keypoint set '${config.keypoints}'; expected one of ${KEYPOINT_SET_NAMES.join(', ')}`);
  return set;
}

/**
 * What decides a run's validation split in {@link loadRunData} (file, row limit, fraction, grouping,
 * seed) as one string: runs with equal keys have the same validation faces.
 */
export function splitKey(config: Pick<TrainConfig, 'data' | 'maxRows' | 'validationFraction' | 'groupBy' | 'seed'>): string {
  return JSON.stringify([config.data, config.maxRows ?? null, config.validationFraction, config.groupBy, config.seed]);
}

/**
 * Load the training file of `config` and split it exactly as a training run does (same seed,
 * fraction and grouping), so `evaluate` sees the same validation set.
 *
 * The split is made on **all** rows before any row is dropped, so the full-set model and every
 * specialist of the same file, seed and fraction share one validation set (an ensemble of
 * specialists can then be evaluated on it without leakage). Then: with `missingLike`, the training
 * rows get the missing-value pattern of that Kaggle table; last, both sides are narrowed to the
 * run's keypoint set, dropping (or masking, `missing: 'mask'`) rows that lack one of its columns.
 *
 * @throws {ConfigError} when `groupBy: 'identity'` and the file has no Identity column.
 * @throws {DataFormatError} on bad data, or when no row has every column of the set.
 */
export async function loadRunData(config: TrainConfig, options: LoadRunDataOptions = {}): Promise<RunData> {
  const table = await readKaggleCsv(config.data, {
    columns: FULL_KEYPOINT_SET.columns,
    ...(config.maxRows ? { maxRows: config.maxRows } : {}),
  });
  const dataset = toDataset(table, FULL_KEYPOINT_SET, { dropIncomplete: false });
  const hasIdentity = dataset.identities !== undefined;
  if (config.groupBy === 'identity' && !hasIdentity) {
    throw new ConfigError(`--group-by identity: ${config.data} has no Identity column`);
  }
  const groupedBy = config.groupBy === 'none' || !hasIdentity ? 'none' : 'identity';
  const split = holdoutSplit(dataset, {
    fraction: config.validationFraction,
    seed: config.seed,
    ...(groupedBy === 'identity' ? { groupBy: 'identity' as const } : {}),
  });
  let train = split.train;
  if (config.missingLike) {
    const patterns = missingPatternOf(await readKaggleCsv(config.missingLike, { columns: FULL_KEYPOINT_SET.columns, requireImage: false }));
    train = applyMissingPattern(train, patterns, { seed: config.seed });
  }
  const set = options.keypointSet ?? keypointSetOf(config);
  const dropIncomplete = (options.missing ?? config.missing) === 'drop';
  return {
    train: restrictToKeypointSet(train, set, { dropIncomplete }),
    validation: restrictToKeypointSet(split.validation, set, { dropIncomplete }),
    groupedBy,
    outsideFrame: keypointsOutsideFrame(table),
  };
}

/**
 * Build the (untrained) model of a config: fc for net1, the CNN otherwise, with the output sized to
 * the run's keypoint set; with `pretrained`, every layer but the output starts from that model's
 * weights (supervised pre-training, Nouri 2014).
 *
 * @throws {ConfigError} when `pretrained`'s layers differ in name or shape.
 */
export function buildModel(config: TrainConfig, pretrained?: tf.LayersModel): tf.LayersModel {
  const set = keypointSetOf(config);
  const outputs = set.columns.length;
  let model: tf.LayersModel;
  if (config.model === 'net1') {
    model = buildFullyConnected({ hidden: 100, outputs, seed: config.seed });
    if (pretrained) copyWeightsExceptOutput(pretrained, model);
    return model;
  }
  const cnn = {
    seed: config.seed,
    padding: config.padding,
    ...(config.dense ? { dense: config.dense } : {}),
    ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}),
  };
  if (set !== FULL_KEYPOINT_SET || pretrained) return buildSpecialist(set, { cnn, ...(pretrained ? { pretrained } : {}) }).model;
  return buildCnn({ ...cnn, outputs, name: config.model });
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
  const name =
    config.model === 'net1'
      ? modelName({ hiddenLayers: 1, ...run })
      : cnnModelName({ ...(config.dropout ? { dropout: NOURI_DROPOUT } : {}) }, run);
  const tags = [config.keypoints !== 'full' ? config.keypoints : '', config.pretrained ? 'pre' : '', config.missing === 'mask' ? 'masked' : ''];
  return [name, ...tags.filter(Boolean)].join('_');
}

/** The training-batch augmentations of a config, in order (flip, then affine). */
export function augmentationsOf(config: TrainConfig): Augmentation[] {
  return [...(config.flip ? [new FlipAugmentation()] : []), ...(config.affine ? [new AffineAugmentation()] : [])];
}

/** Early-stopping patience of a specialist when none is given (kfkd.py `EarlyStopping(patience=200)`). */
export const SPECIALIST_PATIENCE = 200;

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
  const patience = config.patience ?? (config.keypoints !== 'full' ? SPECIALIST_PATIENCE : undefined);
  if (patience) out.push(new EarlyStoppingCallback({ patience }));
  return out;
}

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
