import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '@keypoints/core';
import {
  CALLBACK_ORDER,
  type CallbackContext,
  type CallbackPluginOptions,
  type FitStatus,
  type TrainingCallback,
} from '@keypoints/training';

/** Options of {@link JsonlCallback}. */
export interface JsonlCallbackOptions {
  /** The JSON-lines file (created with its folder if missing), e.g. `runs/net1/epochs.jsonl`. */
  readonly file: string;
  /** Unique callback name; default `jsonl`. */
  readonly name?: string;
}

/**
 * One line of the file per epoch. Losses are MSE in normalized units; RMSE in pixels of the 96×96
 * frame; `validLoss` / `validRmsePx` are `null` without a validation set (JSON has no NaN).
 */
export interface JsonlEpochLine {
  /** 1-based epoch number (as printed by `keypoints train`; `history.json` keeps 0-based). */
  readonly epoch: number;
  readonly trainLoss: number;
  readonly validLoss: number | null;
  readonly trainRmsePx: number;
  readonly validRmsePx: number | null;
  readonly learningRate: number;
  readonly momentum: number;
  /** Wall time of the epoch (training + validation), milliseconds. */
  readonly durationMs: number;
}

/** The last line of the file when the fit ends (not written when the fit fails). */
export interface JsonlFitEndLine {
  readonly event: 'fitEnd';
  readonly status: FitStatus;
  /** Why the fit stopped early (status `stopped` / `cancelled`). */
  readonly stopReason?: string;
  /** Epochs completed in total (with a resume: also those before it). */
  readonly epochsCompleted: number;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);

/**
 * Appends one JSON line per epoch ({@link JsonlEpochLine}) and a final {@link JsonlFitEndLine} to a
 * file — a log that `tail -f`, `jq` or a dashboard can read while the run trains. A fit that starts
 * at epoch 0 truncates the file; a resumed fit appends. Observes only (changes no training state);
 * runs at order 900 (`CALLBACK_ORDER.artifacts`).
 *
 * @example
 * ```ts
 * const trainer = new Trainer({}, [new JsonlCallback({ file: 'runs/mine/epochs.jsonl' })]);
 * ```
 * @throws {ConfigError} in the constructor without `file`.
 */
export class JsonlCallback implements TrainingCallback {
  readonly name: string;
  readonly order = CALLBACK_ORDER.artifacts;
  /** Absolute path of the file. */
  readonly file: string;

  constructor(options: JsonlCallbackOptions) {
    if (!options?.file) throw new ConfigError('callback-jsonl: file is required');
    this.file = resolve(options.file);
    this.name = options.name ?? 'jsonl';
  }

  async onFitStart(ctx: CallbackContext): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    if (ctx.epoch === 0) await writeFile(this.file, '');
  }

  async onEpochEnd(ctx: CallbackContext): Promise<void> {
    const l = ctx.logs!;
    const line: JsonlEpochLine = {
      epoch: ctx.epoch + 1,
      trainLoss: l.trainLoss,
      validLoss: finite(l.validLoss),
      trainRmsePx: l.trainRmsePx,
      validRmsePx: finite(l.validRmsePx),
      learningRate: l.learningRate,
      momentum: l.momentum,
      durationMs: l.durationMs,
    };
    await appendFile(this.file, JSON.stringify(line) + '\n');
  }

  async onFitEnd(ctx: CallbackContext): Promise<void> {
    const status = ctx.status ?? 'completed';
    const line: JsonlFitEndLine = {
      event: 'fitEnd',
      status,
      ...(status !== 'completed' && ctx.stopRequested !== undefined ? { stopReason: ctx.stopRequested } : {}),
      epochsCompleted: ctx.epoch + 1,
    };
    await appendFile(this.file, JSON.stringify(line) + '\n');
  }
}

/** The file name the plugin factory writes in the run directory. */
export const EPOCHS_JSONL = 'epochs.jsonl';

/**
 * The plugin factory (`keypoints train --callback @keypoints/callback-jsonl`): a
 * {@link JsonlCallback} writing `<runDir>/epochs.jsonl`.
 */
export function createJsonlCallback(options: CallbackPluginOptions): JsonlCallback {
  return new JsonlCallback({ file: join(options.runDir, EPOCHS_JSONL) });
}

export default createJsonlCallback;
