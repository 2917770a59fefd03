export { trainRun, loadRunData, buildModel, describeModel, augmentationsOf, callbacksOf, readRunConfig } from './train.js';
export type { TrainResult, TrainRunOptions, RunData, ResumeOverrides } from './train.js';
export { evaluateRun } from './evaluate.js';
export type { EvaluationResult } from './evaluate.js';
export { TrainConfigSchema, DEFAULT_TRAINING_DATA, MODEL_PRESETS, MODEL_PRESET_NAMES, resolveTrainConfig } from './config.js';
export type { TrainConfig, TrainConfigInput, ModelPreset } from './config.js';
export { initBackend, backendPlugins, BACKEND_NAMES } from './backends.js';
export { ProgressCallback } from './progress.callback.js';
export { buildProgram, main } from './main.js';
