/**
 * The observation plane: frozen, numbers-only events emitted on the `Observable` returned by
 * `Trainer.fit`, each after the callbacks for that step ran. Names mirror the callback hooks
 * (`epochEnd` ↔ `onEpochEnd`).
 */

import type { EpochLogs } from '@keypoints/core';

/** Per-epoch figures (defined in `@keypoints/core`, shared with the run-history file format). */
export type { EpochLogs };

/** How a fit ended. */
export type FitStatus = 'completed' | 'stopped' | 'cancelled';

/** Emitted once when a fit starts (after `onFitStart` callbacks). */
export interface FitStartEvent {
  readonly type: 'fitStart';
  /** Maximum number of epochs of the run. */
  readonly epochs: number;
  /** First epoch this fit runs (0, or the resume point). */
  readonly initialEpoch: number;
  readonly batchesPerEpoch: number;
  readonly trainCount: number;
  readonly validationCount: number;
  /** Number of trainable parameters. */
  readonly parameters: number;
}

/** Emitted when an epoch starts (0-based `epoch`). */
export interface EpochStartEvent {
  readonly type: 'epochStart';
  readonly epoch: number;
}

/** Emitted after every training batch. `loss` is that batch's MSE (normalized). */
export interface BatchEndEvent {
  readonly type: 'batchEnd';
  readonly epoch: number;
  readonly batch: number;
  readonly size: number;
  readonly loss: number;
}

/** Emitted after each epoch, with its logs. */
export interface EpochEndEvent {
  readonly type: 'epochEnd';
  readonly epoch: number;
  readonly logs: EpochLogs;
}

/** The single terminal event of a fit (failures travel on the error channel instead). */
export interface FitEndEvent {
  readonly type: 'fitEnd';
  readonly status: FitStatus;
  /** Why the fit stopped early (`status` `stopped` or `cancelled`). */
  readonly stopReason?: string;
  /** Number of epochs completed in total (including those before a resume). */
  readonly epochsCompleted: number;
  /** Wall time of this fit, milliseconds. */
  readonly durationMs: number;
}

/** Any training event. Discriminate on `type`. */
export type TrainingEvent = FitStartEvent | EpochStartEvent | BatchEndEvent | EpochEndEvent | FitEndEvent;

/** The event names, in the order they occur in a fit. */
export const TRAINING_EVENT_TYPES = ['fitStart', 'epochStart', 'batchEnd', 'epochEnd', 'fitEnd'] as const;
