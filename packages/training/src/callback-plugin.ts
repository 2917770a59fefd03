import type { Logger } from '@keypoints/core';
import type { TrainingCallback } from './callback.js';

/**
 * What a callback plugin's factory receives (`keypoints train --callback <module>`, or the
 * pipeline's `loadCallbackPlugin`).
 */
export interface CallbackPluginOptions {
  /** Absolute path of the run directory (`runs/<name>`); it exists when the fit starts. */
  readonly runDir: string;
  /**
   * The run's settings as written to `<runDir>/config.json` (model preset, epochs, batch size,
   * learning rate, …, plus `name`). Read-only.
   */
  readonly config: Readonly<Record<string, unknown>>;
  /** Where human-readable messages go (the run's logger). */
  readonly logger: Logger;
}

/**
 * The contract of a callback plugin module: an ES module whose `default` export (or, failing that,
 * a named `createCallback` export) is this factory. It may be async, and returns one callback or
 * several; each must have a `name` and at least one hook of `CALLBACK_HOOKS` (`onFitStart`,
 * `onEpochStart`, `onBatchEnd`, `onEpochEnd`, `onFitEnd`). A callback named like a default
 * (`history`, `checkpoint`, `progress`, `run-directory`, …) replaces it.
 *
 * @example
 * ```ts
 * // my-plugin.mjs — keypoints train --callback ./my-plugin.mjs
 * export default function (options) {
 *   return { name: 'say', onEpochEnd: (ctx) => options.logger.info(`${ctx.epoch + 1}: ${ctx.logs.validRmsePx} px`) };
 * }
 * ```
 */
export type CallbackPluginFactory = (
  options: CallbackPluginOptions,
) => TrainingCallback | readonly TrainingCallback[] | Promise<TrainingCallback | readonly TrainingCallback[]>;
