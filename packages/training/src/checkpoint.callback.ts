import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { ConfigError, DataNotFoundError, ModelIOError } from '@keypoints/core';
import { findInterruptedSwap, replaceDirAtomic } from '@keypoints/core/node';
import { loadModel, saveModel } from '@keypoints/models';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';
import { Monitor, type MonitorOptions } from './monitor.js';
import type { TrainingState } from './trainer.js';

/** Options of {@link CheckpointCallback}. */
export interface CheckpointOptions extends MonitorOptions {
  /** Folder that receives `last/` and `best/` (usually `runs/<name>/checkpoints`). */
  readonly dir: string;
  /** Save `best/` whenever the monitored metric improves; default true. */
  readonly saveBest?: boolean;
  /** Save `last/` every `every` epochs (and at the end of the fit); default 1. */
  readonly every?: number;
}

/** The file layout of one checkpoint folder. */
const STATE_JSON = 'state.json';
const OPTIMIZER_BIN = 'optimizer.bin';
const MODEL_DIR = 'model';
const CALLBACKS_BIN = 'callbacks.bin';

/**
 * Serialise callback states: Float32Arrays go to one binary blob (referenced as
 * `{ $f32: [offset, length] }`), everything else to JSON; non-finite numbers become null.
 */
function encodeStates(states: Record<string, unknown>): { json: string; bin: Uint8Array } {
  const parts: Float32Array[] = [];
  let offset = 0;
  const json = JSON.stringify(states, (_k, v) => {
    if (v instanceof Float32Array) {
      parts.push(v);
      const ref = { $f32: [offset, v.length] };
      offset += v.length;
      return ref;
    }
    return typeof v === 'number' && !Number.isFinite(v) ? null : v;
  });
  const all = new Float32Array(offset);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return { json, bin: new Uint8Array(all.buffer) };
}

function decodeStates(json: string, bin: Uint8Array): Record<string, unknown> {
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  return JSON.parse(json, (_k, v) =>
    v && typeof v === 'object' && Array.isArray(v.$f32) ? all.slice(v.$f32[0], v.$f32[0] + v.$f32[1]) : v,
  );
}

/**
 * Checkpointing: after each epoch writes `last/` (and `best/` when the monitored metric
 * improves), each a folder with the model (`model/`, TensorFlow.js layers format), the optimizer
 * state (`optimizer.bin`: Nesterov velocities), and `state.json` (completed epochs, learning rate,
 * momentum, every stateful callback's state). Each folder is written to a temporary sibling and
 * swapped in by rename, so a run killed at any moment loses at most the epoch in progress and
 * `loadCheckpoint` always finds a complete checkpoint. Runs after all other state-changing
 * callbacks (order 800).
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
      await writeCheckpoint(join(this.dir, 'last'), ctx.model, state);
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

/**
 * Write one checkpoint folder atomically (`replaceDirAtomic` of `@keypoints/core/node`): everything
 * goes to a temporary sibling folder, is fsynced, then swapped in by rename; on failure the previous
 * checkpoint in `dir` is intact.
 */
export async function writeCheckpoint(dir: string, model: tf.LayersModel, state: TrainingState): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    await saveModel(model, join(tmp, MODEL_DIR));
    await writeFile(join(tmp, OPTIMIZER_BIN), new Uint8Array(state.optimizer.data));
    const callbacks = encodeStates(state.callbacks);
    await writeFile(join(tmp, CALLBACKS_BIN), callbacks.bin);
    const json = {
      epochsCompleted: state.epochsCompleted,
      learningRate: state.learningRate,
      momentum: state.momentum,
      optimizer: { specs: state.optimizer.specs, file: OPTIMIZER_BIN },
      callbacks: callbacks.json,
      callbacksBinary: CALLBACKS_BIN,
      savedAt: new Date().toISOString(),
    };
    await writeFile(join(tmp, STATE_JSON), JSON.stringify(json, null, 1));
  });
}

/** A checkpoint read back: the model (weights loaded) and the state to pass as `FitOptions.resume`. */
export interface LoadedCheckpoint {
  readonly model: tf.LayersModel;
  readonly state: TrainingState;
  /** The folder actually read (a leftover `.<name>.old-*` folder when a crash hit mid-swap). */
  readonly dir: string;
}

/**
 * Read a checkpoint folder written by {@link CheckpointCallback} (e.g. `runs/net1/checkpoints/last`).
 * If a crash hit between the two renames of a swap, the complete previous folder (`.last.old-*`,
 * see `findInterruptedSwap`) is used.
 *
 * @throws {DataNotFoundError} when there is no checkpoint; {@link ModelIOError} when it is corrupt.
 */
export async function loadCheckpoint(dirArg: string): Promise<LoadedCheckpoint> {
  let dir = dirArg;
  if (!existsSync(join(dir, STATE_JSON))) {
    const leftover = await findInterruptedSwap(dir);
    if (leftover === undefined) {
      throw new DataNotFoundError(`${dirArg}: no checkpoint (missing ${STATE_JSON}); was the run started with checkpoints?`);
    }
    dir = leftover;
  }
  let json: {
    epochsCompleted: number;
    learningRate: number;
    momentum: number;
    optimizer: { specs: tf.io.WeightsManifestEntry[]; file: string };
    callbacks: string;
    callbacksBinary: string;
  };
  try {
    json = JSON.parse(await readFile(join(dir, STATE_JSON), 'utf8'));
  } catch (cause) {
    throw new ModelIOError(`${join(dir, STATE_JSON)}: unreadable checkpoint state`, { cause });
  }
  const bin = await readFile(join(dir, json.optimizer.file));
  const callbacks = decodeStates(json.callbacks, await readFile(join(dir, json.callbacksBinary)));
  const model = await loadModel(join(dir, MODEL_DIR));
  const data = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer;
  return {
    dir,
    model,
    state: {
      epochsCompleted: json.epochsCompleted,
      learningRate: json.learningRate,
      momentum: json.momentum,
      optimizer: { specs: json.optimizer.specs, data },
      callbacks,
    },
  };
}

