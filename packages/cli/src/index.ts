export { trainRun, loadRunData, buildModel } from './train.js';
export type { TrainResult, TrainRunOptions, RunData } from './train.js';
export { evaluateRun } from './evaluate.js';
export type { EvaluationResult } from './evaluate.js';
export { TrainConfigSchema, DEFAULT_TRAINING_DATA, MODEL_PRESETS } from './config.js';
export type { TrainConfig, TrainConfigInput } from './config.js';
export { initBackend, backendPlugins, BACKEND_NAMES } from './backends.js';
export { ProgressCallback } from './progress.callback.js';
export { buildProgram, main } from './main.js';
