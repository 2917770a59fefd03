import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { lastValueFrom, tap } from 'rxjs';
import {
  ConfigError,
  formatSchemaIssues,
  FULL_KEYPOINT_SET,
  TRAINER,
  consoleLogger,
  container,
  rmsePixelsFromMse,
  type Logger,
} from '@keypoints/core';
import { BatchIterator } from '@keypoints/data';
import { loadModel, specialistMaxEpochs } from '@keypoints/models';
import {
  EarlyStoppingCallback,
  MaxTimeCallback,
  loadLatestCheckpoint,
  registerTraining,
  type CallbackPluginFactory,
  type FitEndEvent,
  type FitSummary,
  type Trainer,
  type TrainingCallback,
  type TrainingEvent,
  type TrainingState,
} from '@keypoints/training';
import { writeFileAtomic } from '@keypoints/core/node';
import type { RunMetrics } from '@keypoints/reporting';
import { initBackend } from './backends.js';
import { meanShape, meanShapeMse } from './baseline.js';
import { callbacksFromPlugin, importCallbackPlugin } from './callback-plugin.loader.js';
import { TrainConfigSchema, type ModelPreset, type TrainConfig, type TrainConfigInput } from './config.js';
import { runCallbacksOf } from './default-callbacks.js';
import { InterruptCallback } from './interrupt.callback.js';
import { savedModelFigures } from './run-figures.js';
import { plannedSchedules } from './schedule-plan.js';
import { resolveTrainConfig } from './presets.js';
import { keypointSetOf, readRunConfig } from './run-config.js';
import { augmentationsOf, loadRunData, type RunData } from './run-data.js';
import { buildModel, describeModel } from './run-model.js';

/**
 * The settings of a new run: a {@link TrainConfigInput} whose `model` may be left out when
 * `pretrained` names a run — the architecture (`model`, `dense`, `convNet`, `dropout`, `padding`) then comes
 * from that run's `config.json`.
 */
export type NewRunConfig = Omit<TrainConfigInput, 'model' | 'dense'> & {
  readonly model?: ModelPreset | 'recommended' | undefined;
  /** CNN dense layer sizes, e.g. `[500, 500]`. */
  readonly dense?: readonly [number, number] | undefined;
};

/** What {@link resumeRun} may change from the saved config (everything else is the run's). */
export interface ResumeOverrides {
  /**
   * New maximum number of epochs (e.g. to train longer). The schedules are not re-planned: they
   * keep the span they were planned over and hold their last value past it.
   */
  readonly epochs?: number;
  /** Another backend (`wasm`, `cpu`, `node`, `node-gpu`). */
  readonly backend?: string;
  /**
   * A new wall-time budget, minutes (`maxTime`), e.g. to continue a run its budget stopped. It is
   * the run's total: the time the checkpoint's fits already took counts against it.
   */
  readonly maxTime?: number;
}

/** What {@link trainRun} and {@link resumeRun} return. */
export interface TrainResult {
  /** Absolute path of the run directory. */
  readonly runDir: string;
  /** The run's `metrics.json` (RMSE in pixels). */
  readonly metrics: RunMetrics;
  /** The fit's terminal event. */
  readonly end: FitEndEvent;
}

/** Options of {@link trainRun} / {@link resumeRun} that are not part of the saved config. */
export interface TrainRunOptions {
  /**
   * Extra callback plugins for this run. One named like a default (`history`, `checkpoint`,
   * `run-directory`, `progress`, … see `runCallbacksOf`) replaces that default.
   */
  readonly callbacks?: readonly TrainingCallback[];
  /**
   * Callback plugin modules (paths relative to the working directory, or package names; see
   * `loadCallbackPlugin`): imported first (a bad one fails the run before any work), their
   * factories called once `config.json` is written; their callbacks join `callbacks`.
   */
  readonly plugins?: readonly string[];
  /** Names of default callbacks to leave out, e.g. `['progress']`. */
  readonly remove?: readonly string[];
  /** Observer of the training-event stream. */
  readonly onEvent?: (event: TrainingEvent) => void;
  /** Show progress on stderr; default true (`false` ≡ `remove: ['progress']`). */
  readonly progress?: boolean;
  /** Where messages go; default the console. */
  readonly logger?: Logger;
  /** Cancels the fit (it ends with status `cancelled`; the run directory is still written). */
  readonly signal?: AbortSignal;
  /**
   * Interrupts the run at a clean point (Ctrl-C in `keypoints train`): the epoch in progress
   * finishes and is checkpointed, then the run directory is written with `metrics.json`
   * `status: 'interrupted'` (stop reason: the abort reason, a string) and `resumeRun` continues
   * from the next epoch. See `InterruptCallback`.
   */
  readonly interrupt?: AbortSignal;
}

/**
 * Train a new run end to end: backend, data (load + split), mean-shape baseline, model, the
 * default callbacks (see `runCallbacksOf`) plus `options.callbacks` / `plugins` in a child DI
 * container, and the fit. The run directory `runs/<name>/` (or `out`) gets `config.json` before
 * the fit, `checkpoints/` during it, and — written by the `run-directory` and `learning-curve`
 * callbacks at fit end — `history.json`, `history.csv`, `model/` (TensorFlow.js layers format),
 * `metrics.json` and `learning-curve.svg`.
 *
 * @example
 * ```ts
 * const { runDir, metrics } = await trainRun({ model: 'net1', epochs: 2, maxRows: 64 }, { progress: false });
 * ```
 * @throws {ConfigError} on invalid settings (also: no `model` and no `pretrained`);
 * {@link DataFormatError} on bad data; {@link BackendInitError} when the backend cannot load.
 */
export async function trainRun(input: NewRunConfig, options: TrainRunOptions = {}): Promise<TrainResult> {
  const config = await newRunConfig(input);
  return executeRun({ config, specialistEpochs: input.epochs === undefined }, options);
}

/**
 * Continue the run in `runDir` from its newest complete and verified checkpoint (`checkpoints/last`,
 * else `previous`, `best` or a crash leftover; see `loadLatestCheckpoint`): its `config.json`
 * is used as is, except `overrides.epochs` / `overrides.backend`. The history has every epoch,
 * before and after the restart. The linear schedules keep the span they were planned over (see
 * `plannedSchedules`): with a larger `epochs` the extra epochs hold the schedules' last values, and
 * the logger says so.
 *
 * @throws {DataNotFoundError} when `runDir` has no config.json or no checkpoint;
 * `CheckpointDamagedError` (code `MODEL_IO`, one line naming the folder and file) when every
 * checkpoint is damaged.
 */
export async function resumeRun(runDir: string, overrides: ResumeOverrides = {}, options: TrainRunOptions = {}): Promise<TrainResult> {
  const dir = resolve(runDir);
  const saved = await readRunConfig(dir);
  // Schedules keep the span they were planned over (pinned in config.json) and hold their last value past it.
  const { schedules, message } = plannedSchedules(saved, overrides.epochs);
  if (message) (options.logger ?? consoleLogger).info(message);
  const config = validated(
    TrainConfigSchema.safeParse({
      ...saved,
      ...schedules,
      epochs: overrides.epochs ?? saved.epochs,
      backend: overrides.backend ?? saved.backend,
      maxTime: overrides.maxTime ?? saved.maxTime,
      out: dir,
    }),
  );
  return executeRun({ config, resumeFrom: dir, specialistEpochs: false }, options);
}

/** A validated config with its run name and absolute run directory. */
interface RunPlan {
  readonly config: TrainConfig;
  /** Continue from the newest verified checkpoint in `<dir>/checkpoints/`. */
  readonly resumeFrom?: string;
  /** A specialist without explicit epochs gets kfkd.py's `round(4e6 / rows)`. */
  readonly specialistEpochs: boolean;
}

/**
 * Fill the architecture of a config that names a `pretrained` run but no model preset: `model`,
 * `dense`, `dropout` and `padding` come from the pre-trained run's `config.json` (fields the input
 * gives win), so `keypoints train --keypoints nose_tip --pretrained runs/net6` builds a net6-shaped
 * specialist.
 *
 * @throws {DataNotFoundError} when the pre-trained folder has no config.json.
 */
async function withPretrainedArchitecture(input: NewRunConfig & { pretrained: string }): Promise<TrainConfigInput> {
  const from = await readRunConfig(resolve(input.pretrained));
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  return {
    model: from.model,
    ...(from.dense ? { dense: from.dense } : {}),
    ...(from.convNet ? { convNet: from.convNet } : {}),
    dropout: from.dropout,
    padding: from.padding,
    ...defined,
  } as TrainConfigInput;
}

function validated(parsed: ReturnType<typeof TrainConfigSchema.safeParse>): TrainConfig {
  if (!parsed.success) {
    throw new ConfigError(
      `invalid training config: ${formatSchemaIssues(parsed.error.issues)}`,
    );
  }
  return parsed.data;
}

/** Preset + input, validated, with absolute paths (so evaluate / plot / resume work from any directory). */
async function newRunConfig(input: NewRunConfig): Promise<TrainConfig> {
  const full = input.model === undefined && input.pretrained ? await withPretrainedArchitecture({ ...input, pretrained: input.pretrained }) : input;
  if (full.model === undefined) throw new ConfigError('a training config needs a model preset (net1 … net8, conv4, conv4bn, conv4x2 or recommended)');
  const parsed = validated(resolveTrainConfig(full as TrainConfigInput));
  const runDir = resolve(parsed.out ?? join('runs', runName(parsed)));
  if (parsed.pretrained && resolve(parsed.pretrained) === runDir) {
    throw new ConfigError(`--pretrained ${parsed.pretrained} is this run's own folder; give the new run another --out or --name (it would overwrite the model it starts from)`);
  }
  return {
    ...parsed,
    data: resolve(parsed.data),
    out: runDir,
    ...(parsed.pretrained ? { pretrained: resolve(parsed.pretrained) } : {}),
    ...(parsed.missingLike ? { missingLike: resolve(parsed.missingLike) } : {}),
  };
}

/** A specialist's default name says its group, so it never lands in (and overwrites) its pre-trained run. */
function runName(config: TrainConfig): string {
  return config.name ?? (config.keypoints === 'full' ? config.model : `${config.model}_${config.keypoints}`);
}

/** The shared middle of a new and a resumed run: prepare, fit, results. */
async function executeRun(plan: RunPlan, options: TrainRunOptions): Promise<TrainResult> {
  const logger = options.logger ?? consoleLogger;
  const config: TrainConfig = { ...plan.config };
  const name = runName(config);
  const runDir = config.out!;
  // Fail fast on a bad --callback, before the backend and the data load.
  const factories: Array<[string, CallbackPluginFactory]> = [];
  for (const specifier of options.plugins ?? []) factories.push([specifier, await importCallbackPlugin(specifier)]);
  const backend = await initBackend(config.backend, logger, config.threads ? { threads: config.threads } : {});
  logger.info(`backend: ${backend}`);
  const data = await loadData(config, logger);
  const set = keypointSetOf(config);
  if (plan.specialistEpochs && set !== FULL_KEYPOINT_SET) {
    // kfkd.py: max_epochs = int(4e6 / y.shape[0]) on the specialist's rows.
    config.epochs = specialistMaxEpochs(data.train.count + data.validation.count);
    logger.info(`${name}: ${config.epochs} epochs (round(4e6 / ${data.train.count + data.validation.count} rows), kfkd.py)`);
  }
  if (config.maxTime !== undefined) {
    logger.info(`${name}: time budget ${config.maxTime} min (--max-time), at most ${config.epochs} epochs; the best epoch's weights are kept`);
  }
  const shape = meanShape(data.train.targets, data.train.mask, set.columns.length);
  const baselineValidRmsePx = rmsePixelsFromMse(meanShapeMse(shape, data.validation.targets, data.validation.mask));
  const { model, resume } = await startingModel(config, name, plan.resumeFrom, logger);

  await mkdir(runDir, { recursive: true });
  await writeFileAtomic(join(runDir, 'config.json'), JSON.stringify({ ...config, name }, null, 2) + '\n');
  const interrupt = options.interrupt ? new InterruptCallback(options.interrupt) : undefined;
  let defaults: readonly TrainingCallback[] = [];
  const metricsOf = async (fit: FitSummary): Promise<RunMetrics> => {
    // The headline describes the saved model (early stopping: the restored best epoch).
    const savedModel = await savedModelFigures(fit, model, data.validation);
    return {
      model: name,
      modelName: describeModel(config),
      keypoints: set.name,
      columns: set.columns,
      ...(config.pretrained ? { pretrained: config.pretrained } : {}),
      parameters: fit.parameters,
      epochs: fit.epochs,
      validRmsePx: savedModel.validRmsePx,
      savedModel,
      finalValidRmsePx: fit.finalValidRmsePx,
      bestValidRmsePx: fit.bestValidRmsePx,
      bestEpoch: fit.bestEpoch,
      finalTrainRmsePx: fit.finalTrainRmsePx,
      baselineValidRmsePx,
      improvementOverBaseline: fit.epochs > 0 ? 1 - savedModel.validRmsePx / baselineValidRmsePx : NaN,
      trainCount: data.train.count,
      validationCount: data.validation.count,
      backend,
      trainSeconds: fit.trainSeconds,
      status: fit.status,
      ...(fit.stopReason ? { stopReason: fit.stopReason } : {}),
      ...stoppedByOf([...defaults, ...(interrupt ? [interrupt] : [])]),
      ...(config.maxTime !== undefined ? { maxTimeMinutes: config.maxTime } : {}),
      data: config.data,
      splitGroupedBy: data.groupedBy,
    };
  };
  const plugins: TrainingCallback[] = [];
  for (const [specifier, factory] of factories) {
    plugins.push(...(await callbacksFromPlugin(specifier, factory, { runDir, config: Object.freeze({ ...config, name }), logger })));
  }
  const remove = [...new Set([...(options.remove ?? []), ...(options.progress === false ? ['progress'] : [])])];
  defaults = runCallbacksOf(config, { runDir, name, metrics: interrupt ? interrupt.statusOf(metricsOf) : metricsOf });
  const run = container.createChildContainer();
  try {
    registerTraining(run, {
      trainer: {
        optimizer: config.optimizer,
        loss: config.loss,
        learningRate: config.learningRate,
        momentum: config.momentum,
        ...(config.weightDecay !== undefined ? { weightDecay: config.weightDecay } : {}),
      },
      defaults,
      callbacks: [...(options.callbacks ?? []), ...plugins, ...(interrupt ? [interrupt] : [])],
      remove,
    });
    const end = await fit(run.resolve<Trainer>(TRAINER), model, data, config, resume, options);
    return { runDir, metrics: await readMetrics(runDir), end };
  } finally {
    await run.dispose();
    model.dispose();
  }
}

/**
 * `metrics.json`'s `stoppedBy`: the name of the callback whose stop request ended the fit —
 * `max-time` (the time budget), `early-stopping`, or `interrupt` (Ctrl-C / SIGTERM); nothing when
 * the fit completed or another callback stopped it.
 */
function stoppedByOf(callbacks: readonly TrainingCallback[]): { stoppedBy?: string } {
  const stopper = callbacks.find(
    (cb) => ((cb instanceof MaxTimeCallback || cb instanceof EarlyStoppingCallback) && cb.stopped) || (cb instanceof InterruptCallback && cb.interrupted),
  );
  return stopper ? { stoppedBy: stopper.name } : {};
}

/** Load + split the run's data and log what was loaded (and keypoints outside the frame). */
async function loadData(config: TrainConfig, logger: Logger): Promise<RunData> {
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
  return data;
}

/** The model to train: from the checkpoint (resume), from a pre-trained run, or fresh. */
async function startingModel(
  config: TrainConfig,
  name: string,
  resumeFrom: string | undefined,
  logger: Logger,
): Promise<{ model: tf.LayersModel; resume?: TrainingState }> {
  if (resumeFrom) {
    // The newest complete and verified checkpoint (last, previous, best or a crash leftover);
    // damaged ones are warned about (folder and file) and skipped, leftovers removed.
    const checkpoint = await loadLatestCheckpoint(join(resumeFrom, 'checkpoints'), { warn: (m) => logger.warn(m) });
    logger.info(`resuming ${resumeFrom} after epoch ${checkpoint.state.epochsCompleted} (checkpoint ${checkpoint.dir})`);
    return { model: checkpoint.model, resume: checkpoint.state };
  }
  if (!config.pretrained) return { model: buildModel(config) };
  const from = resolve(config.pretrained);
  const pretrained = await loadModel(join(from, 'model'));
  try {
    const model = buildModel(config, pretrained);
    logger.info(`${name}: every layer but the output initialised from ${from} (supervised pre-training)`);
    return { model };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(
      `--pretrained ${from} does not fit this run's model (--model ${config.model}` +
        `${config.dense ? `, --dense ${config.dense.join(',')}` : ''}, --padding ${config.padding}): ${err.message}. ` +
        "Train with the pre-trained run's --model, --dense and --padding (or leave --model out to take them from it).",
      { cause: err },
    );
  } finally {
    pretrained.dispose();
  }
}

/** Run the fit; resolves with its `fitEnd` event. */
async function fit(
  trainer: Trainer,
  model: tf.LayersModel,
  data: RunData,
  config: TrainConfig,
  resume: TrainingState | undefined,
  options: TrainRunOptions,
): Promise<FitEndEvent> {
  const batches = new BatchIterator(data.train, {
    batchSize: config.batchSize,
    shuffle: true,
    seed: config.seed,
    augmentations: augmentationsOf(config),
  });
  let end: FitEndEvent | undefined;
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
  return end!;
}

/** The `metrics.json` the run-directory callback (or a replacement) wrote. */
async function readMetrics(runDir: string): Promise<RunMetrics> {
  const file = join(runDir, 'metrics.json');
  try {
    return JSON.parse(await readFile(file, 'utf8'), (_k, v) => (v === null ? NaN : v)) as RunMetrics;
  } catch (cause) {
    throw new ConfigError(`${file}: no metrics after the fit; a 'run-directory' callback that replaces the default must write metrics.json`, { cause });
  }
}
