export { trainRun, loadRunData, buildModel, describeModel, augmentationsOf, callbacksOf, readRunConfig } from './train.js';
export type { TrainResult, TrainRunOptions, RunData, ResumeOverrides } from './train.js';
export { evaluateRun } from './evaluate.js';
export type { EvaluationResult } from './evaluate.js';
export { loadPredictor, DEFAULT_PREDICT_BATCH } from './predictor.js';
export type { KeypointPredictor, PredictorMember, LoadPredictorOptions } from './predictor.js';
export { writeSubmission, readLookupTable, SUBMISSION_HEADER } from './submit.js';
export type { SubmitOptions, SubmitResult, LookupRow } from './submit.js';
export { addSubmitCommand } from './commands/submit.command.js';
export { TrainConfigSchema, DEFAULT_TRAINING_DATA, SPECIALISTS_MANIFEST, MODEL_PRESETS, MODEL_PRESET_NAMES, resolveTrainConfig } from './config.js';
export type { TrainConfig, TrainConfigInput, ModelPreset } from './config.js';
export { initBackend, backendPlugins, BACKEND_NAMES } from './backends.js';
export { ProgressCallback } from './progress.callback.js';
export { buildProgram, main, versusBaseline } from './main.js';
export { plotRuns, writeSummary } from './plot.js';
export type { PlotResult } from './plot.js';
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
export { addTrainSpecialistsCommand } from './commands/train-specialists.command.js';
