import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import {
  ConfigError,
  FULL_KEYPOINT_SET,
  TRAINER,
  consoleLogger,
  container,
  rmsePixelsFromMse,
  type Logger,
} from '@keypoints/core';
import { BatchIterator, holdoutSplit, readKaggleCsv, toDataset, type Dataset } from '@keypoints/data';
import { buildFullyConnected, saveModel } from '@keypoints/models';
import {
  HistoryCallback,
  registerTraining,
  type FitEndEvent,
  type Trainer,
  type TrainingCallback,
  type TrainingEvent,
} from '@keypoints/training';
import { learningCurveSvg, writeFileAtomic, writeHistory, writeMetrics, type RunMetrics } from '@keypoints/reporting';
import { initBackend } from './backends.js';
import { meanShape, meanShapeMse } from './baseline.js';
import { TrainConfigSchema, type TrainConfig, type TrainConfigInput } from './config.js';
import { ProgressCallback } from './progress.callback.js';

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
  const table = await readKaggleCsv(config.data, { columns: FULL_KEYPOINT_SET.columns });
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

/** Build the model of a preset. */
export function buildModel(config: TrainConfig): tf.LayersModel {
  switch (config.model) {
    case 'net1':
      return buildFullyConnected({ hidden: 100, outputs: FULL_KEYPOINT_SET.columns.length, seed: config.seed });
  }
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
export async function trainRun(input: TrainConfigInput, options: TrainRunOptions = {}): Promise<TrainResult> {
  const parsed = TrainConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`invalid training config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const logger = options.logger ?? consoleLogger;
  const name = config.name ?? config.model;
  const runDir = resolve(config.out ?? join('runs', name));
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

  const model = buildModel(config);
  const history = new HistoryCallback();
  const run = container.createChildContainer();
  registerTraining(run, {
    trainer: { learningRate: config.learningRate, momentum: config.momentum },
    callbacks: [
      history,
      ...(options.progress === false ? [] : [new ProgressCallback(name)]),
      ...(options.callbacks ?? []),
    ],
  });
  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, 'config.json'), JSON.stringify({ ...config, name }, null, 2) + '\n');
  const batches = new BatchIterator(data.train, { batchSize: config.batchSize, shuffle: true, seed: config.seed });
  const t0 = performance.now();
  let end: FitEndEvent | undefined;
  try {
    const trainer = run.resolve<Trainer>(TRAINER);
    await lastValueFrom(
      trainer
        .fit(model, batches, data.validation, { epochs: config.epochs, batchEvents: false, signal: options.signal })
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
