import { join } from 'node:path';
import { ConfigError } from '@keypoints/core';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';
import { writeCheckpoint } from './checkpoint-store.js';
import { Monitor, type MonitorOptions } from './monitor.js';

/** Options of {@link CheckpointCallback}. */
export interface CheckpointOptions extends MonitorOptions {
  /** Folder that receives `last/`, `previous/` and `best/` (usually `runs/<name>/checkpoints`). */
  readonly dir: string;
  /** Save `best/` whenever the monitored metric improves; default true. */
  readonly saveBest?: boolean;
  /** Save `last/` every `every` epochs (and at the end of the fit); default 1. */
  readonly every?: number;
}

/**
 * Checkpointing: after each epoch writes `last/` (and `best/` when the monitored metric
 * improves), each a folder with the model (`model/`, TensorFlow.js layers format), the optimizer
 * state (`optimizer.bin`: Nesterov velocities), `callbacks.bin` + `state.json` (completed epochs,
 * learning rate, momentum, every stateful callback's state) and `manifest.json` (size and sha256
 * of each file; see `writeCheckpoint`). The `last/` being replaced is kept as `previous/`, so a
 * damaged `last/` still leaves a recent fallback. Each folder is written to a temporary sibling
 * and swapped in by rename, so a run killed at any moment loses at most the epoch in progress and
 * `loadLatestCheckpoint` finds the newest complete and verified checkpoint. Runs after all other
 * state-changing callbacks (order 800).
 *
 * @throws {ConfigError} in the constructor on invalid options.
 */
export class CheckpointCallback implements TrainingCallback {
  readonly name = 'checkpoint';
  readonly order = CALLBACK_ORDER.checkpoint;
  private readonly monitor: Monitor;
  private readonly every: number;
  private readonly saveBest: boolean;
  readonly dir: string;

  constructor(options: CheckpointOptions) {
    if (!options?.dir) throw new ConfigError('checkpoint: dir is required');
    this.dir = options.dir;
    this.monitor = new Monitor(options);
    this.every = options.every ?? 1;
    if (!Number.isInteger(this.every) || this.every < 1) throw new ConfigError(`checkpoint: every must be a positive integer, got ${options.every}`);
    this.saveBest = options.saveBest ?? true;
  }

  onFitStart(ctx: CallbackContext): void {
    if (this.saveBest && this.monitor.metric.startsWith('valid') && !ctx.hasValidation) {
      throw new ConfigError(`checkpoint 'best' monitors '${this.monitor.metric}' but the fit has no validation set; monitor 'trainLoss' or set saveBest: false`);
    }
    if (ctx.epoch === 0) this.monitor.reset();
  }

  async onEpochEnd(ctx: CallbackContext): Promise<void> {
    const value = this.monitor.read(ctx.logs!);
    const improved = this.monitor.improves(value);
    if (improved) {
      this.monitor.best = value;
      this.monitor.bestEpoch = ctx.epoch;
    }
    // Capture after updating our own best, so the saved state includes it.
    const state = await ctx.getTrainingState();
    if ((ctx.epoch + 1) % this.every === 0 || ctx.epoch + 1 === ctx.epochs) {
      await writeCheckpoint(join(this.dir, 'last'), ctx.model, state, { keepPrevious: join(this.dir, 'previous') });
    }
    if (this.saveBest && improved) await writeCheckpoint(join(this.dir, 'best'), ctx.model, state);
  }

  getState(): { best: number; bestEpoch: number } {
    return { best: this.monitor.best, bestEpoch: this.monitor.bestEpoch };
  }

  setState(state: unknown): void {
    const s = state as { best: number | null; bestEpoch: number };
    this.monitor.best = s.best ?? NaN;
    this.monitor.bestEpoch = s.bestEpoch;
  }
}
