export { Trainer, evaluateMse } from './trainer.js';
export { LOSS_NAMES, lossByName, maskedMse, maskedL1, maskedWing, WING_WIDTH_PX, WING_EPSILON_PX } from './losses.js';
export type { LossName, MaskedLoss } from './losses.js';
export { OPTIMIZER_NAMES, createOptimizer, AdamWOptimizer } from './optimizers.js';
export type { OptimizerName, OptimizerSettings, TrainingOptimizer } from './optimizers.js';
export type { TrainerOptions, FitOptions, BatchSource, TrainingBatch, ValidationSet, TrainingState } from './trainer.js';
export { NesterovMomentumOptimizer } from './nesterov-momentum.optimizer.js';
export { CallbackRunner } from './callback-runner.js';
export { mergeCallbacks } from './callback-set.js';
export type { CallbackSelection } from './callback-set.js';
export { DEFAULT_CALLBACKS, REMOVED_CALLBACKS } from './tokens.js';
export type { CallbackPluginOptions, CallbackPluginFactory } from './callback-plugin.js';
export { RunDirectoryCallback } from './run-directory.callback.js';
export type { RunDirectoryOptions, FitMetrics, FitSummary, SavedModelFigures } from './run-directory.callback.js';
export { CALLBACK_HOOKS, CALLBACK_ORDER } from './callback.js';
export type { CallbackContext, CallbackHook, TrainingCallback, WeightsSource } from './callback.js';
export { TRAINING_EVENT_TYPES } from './events.js';
export type {
  TrainingEvent,
  FitStartEvent,
  EpochStartEvent,
  BatchEndEvent,
  EpochEndEvent,
  FitEndEvent,
  FitStatus,
  EpochLogs,
} from './events.js';
export { HistoryCallback } from './history.callback.js';
export type { HistoryEntry } from './history.callback.js';
export { registerTraining } from './register.js';
export type { TrainingRegistration } from './register.js';
export { ScheduleCallback, linearSchedule, cosineSchedule, exponentialDecay, linearLearningRate, linearMomentum } from './schedules.callback.js';
export type { Schedule, ScheduleOptions, ScheduledVariable } from './schedules.callback.js';
export { Monitor, MONITORABLE } from './monitor.js';
export type { MonitorOptions, MonitoredMetric } from './monitor.js';
export { EarlyStoppingCallback } from './early-stopping.callback.js';
export type { EarlyStoppingOptions } from './early-stopping.callback.js';
export { MaxTimeCallback } from './max-time.callback.js';
export type { MaxTimeOptions } from './max-time.callback.js';
export { NanGuardCallback } from './nan-guard.callback.js';
export { CheckpointCallback } from './checkpoint.callback.js';
export type { CheckpointOptions } from './checkpoint.callback.js';
export {
  writeCheckpoint,
  verifyCheckpoint,
  loadCheckpoint,
  loadLatestCheckpoint,
  CheckpointDamagedError,
  CHECKPOINT_MANIFEST,
  CHECKPOINT_FORMAT,
  CHECKPOINT_FAULT_DELAY_ENV,
} from './checkpoint-store.js';
export type {
  WriteCheckpointOptions,
  VerifiedCheckpoint,
  LoadedCheckpoint,
  LoadLatestOptions,
  LatestCheckpoint,
  CheckpointFileEntry,
} from './checkpoint-store.js';
