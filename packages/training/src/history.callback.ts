import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';
import type { HistoryRow } from '@keypoints/core';

/** One row of a run's history: the 0-based epoch and its logs (`HistoryRow` of `@keypoints/core`, as in `history.json`). */
export type HistoryEntry = HistoryRow;

/**
 * Records the logs of every epoch (Keras `History`). Stateful: its entries are saved in
 * checkpoints so a resumed run's history has no gap or duplicate epoch. State resets when a
 * fit starts from epoch 0, so one instance can be reused.
 */
export class HistoryCallback implements TrainingCallback {
  readonly name: string = 'history';
  readonly order: number = CALLBACK_ORDER.history;
  /** The recorded rows (subclasses, e.g. `RunDirectoryCallback`, record the same way). */
  protected rows: HistoryEntry[] = [];

  /** The recorded epochs, oldest first. */
  get entries(): readonly HistoryEntry[] {
    return this.rows;
  }

  /** The entry with the lowest validation RMSE (pixels); undefined before the first epoch or without validation. */
  best(): HistoryEntry | undefined {
    let best: HistoryEntry | undefined;
    for (const r of this.rows) if (Number.isFinite(r.validRmsePx) && (!best || r.validRmsePx < best.validRmsePx)) best = r;
    return best;
  }

  onFitStart(ctx: CallbackContext): void {
    // Keep entries before the resume point only.
    this.rows = this.rows.filter((r) => r.epoch < ctx.epoch);
  }

  onEpochEnd(ctx: CallbackContext): void {
    if (ctx.logs) this.rows.push(Object.freeze({ epoch: ctx.epoch, ...ctx.logs }));
  }

  getState(): HistoryEntry[] {
    return [...this.rows];
  }

  setState(state: unknown): void {
    if (!Array.isArray(state)) throw new TypeError('history state must be an array of entries');
    // JSON turns NaN (no validation set) into null: turn it back.
    this.rows = state.map((r) =>
      Object.freeze(Object.fromEntries(Object.entries(r as object).map(([k, v]) => [k, v === null ? NaN : v])) as unknown as HistoryEntry),
    );
  }
}
