import { ConfigError } from '@keypoints/core';
import type { EpochLogs } from './events.js';

/** The `EpochLogs` keys a monitor can watch. */
export const MONITORABLE = ['validLoss', 'validRmsePx', 'trainLoss', 'trainRmsePx'] as const;
/** One of {@link MONITORABLE}. */
export type MonitoredMetric = (typeof MONITORABLE)[number];

/** Options shared by early stopping and best-model checkpoints (Keras's monitor base). */
export interface MonitorOptions {
  /** Metric to watch; default `validLoss`. */
  readonly monitor?: MonitoredMetric;
  /** `min` (lower is better), `max`, or `auto` (min for losses and RMSE); default `auto`. */
  readonly mode?: 'min' | 'max' | 'auto';
  /** An improvement must beat the best by more than this; default 0. */
  readonly minDelta?: number;
}

/**
 * Tracks the best value of one metric. Invalid options fail in the constructor; a metric that
 * does not exist fails with the list of those that do.
 */
export class Monitor {
  readonly metric: MonitoredMetric;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  best = NaN;
  bestEpoch = -1;

  constructor(options: MonitorOptions = {}) {
    const metric = options.monitor ?? 'validLoss';
    if (!(MONITORABLE as readonly string[]).includes(metric)) {
      throw new ConfigError(`cannot monitor '${metric}'; available metrics: ${MONITORABLE.join(', ')}`);
    }
    const mode = options.mode ?? 'auto';
    if (!['min', 'max', 'auto'].includes(mode)) throw new ConfigError(`mode must be 'min', 'max' or 'auto', got '${mode}'`);
    const minDelta = options.minDelta ?? 0;
    if (!(minDelta >= 0)) throw new ConfigError(`minDelta must be ≥ 0, got ${minDelta}`);
    this.metric = metric;
    this.mode = mode === 'auto' ? 'min' : mode;
    this.minDelta = minDelta;
  }

  /** Read the monitored value from an epoch's logs. */
  read(logs: EpochLogs): number {
    return logs[this.metric];
  }

  /** Whether `value` improves on the best so far (the first finite value always does). */
  improves(value: number): boolean {
    if (!Number.isFinite(value)) return false;
    if (!Number.isFinite(this.best)) return true;
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  reset(): void {
    this.best = NaN;
    this.bestEpoch = -1;
  }
}
