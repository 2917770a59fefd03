/**
 * `@keypoints/pipeline`: everything a training run does, as functions — the run config schema and
 * presets (Nouri 2014 net1 … net8), load + split, default callbacks, `trainRun`, run directories and
 * Nouri's six specialists in parallel worker processes.
 */
export { TrainConfigSchema, DEFAULT_TRAINING_DATA, SPECIALISTS_MANIFEST, KEYPOINT_SET_NAMES } from './config.js';
export type { TrainConfig, TrainConfigInput, ModelPreset } from './config.js';
export { MODEL_PRESETS, MODEL_PRESET_NAMES, RECOMMENDED_PRESET, resolveTrainConfig } from './presets.js';
export { readRunConfig, keypointSetOf } from './run-config.js';
export { loadRunData, splitKey, augmentationsOf } from './run-data.js';
export type { RunData, LoadRunDataOptions } from './run-data.js';
export { buildModel, describeModel } from './run-model.js';
export { callbacksOf, runCallbacksOf, SPECIALIST_PATIENCE } from './default-callbacks.js';
export type { RunCallbackOptions } from './default-callbacks.js';
export { LearningCurveCallback } from './learning-curve.callback.js';
export type { LearningCurveOptions } from './learning-curve.callback.js';
export { loadCallbackPlugin, importCallbackPlugin, callbacksFromPlugin } from './callback-plugin.loader.js';
export type { LoadCallbackPluginOptions } from './callback-plugin.loader.js';
export { meanShape, meanShapeMse, versusBaseline } from './baseline.js';
export { savedModelFigures, runSummaryLines } from './run-figures.js';
export { trainRun, resumeRun } from './train.js';
export { InterruptCallback, INTERRUPTED_STATUS } from './interrupt.callback.js';
export type { TrainResult, TrainRunOptions, ResumeOverrides, NewRunConfig } from './train.js';
export { initBackend, registerDefaultBackends } from './backends.js';
export type { BackendOptions, DefaultBackendOptions } from './backends.js';
export { ProgressCallback } from './progress.callback.js';
export {
  trainSpecialists,
  assembleSpecialistsManifest,
  formatSpecialistsSummary,
  resolveWorkerThreads,
  resolveSpecialistNames,
  runPool,
  runSpecialistWorker,
  specialistInput,
  readPretrained,
  SPECIALIST_NAMES,
} from './specialists.js';
export type {
  TrainSpecialistsOptions,
  TrainSpecialistsResult,
  SpecialistsManifest,
  SpecialistEntry,
  SpecialistStatus,
  SpecialistJob,
  SpecialistMessage,
  WorkerOutcome,
} from './specialists.js';
export { SpecialistsProgress } from './specialists.progress.js';
export {
  readSpecialistsManifest,
  writeSpecialistsManifest,
  SpecialistsManifestSchema,
  SpecialistsManifestReadSchema,
  SpecialistEntrySchema,
} from './specialists-manifest.js';
export type { LoadedSpecialistsManifest, LoadedSpecialistEntry } from './specialists-manifest.js';
