/**
 * The figures of one training epoch: what the training package's events and callbacks carry, and
 * what a run's `history.json` / `history.csv` store per epoch (`HistoryRow` of `@keypoints/core/node`).
 */

/** Per-epoch figures. Losses are MSE in normalized units; RMSE is in pixels (`sqrt(mse) × 48`). */
export interface EpochLogs {
  /** Mean training loss over the epoch's batches (MSE, normalized units, weighted by batch size). */
  readonly trainLoss: number;
  /** Training RMSE in pixels, `sqrt(trainLoss) × 48` (with dropout active, as in Nouri 2014). */
  readonly trainRmsePx: number;
  /** Validation loss (MSE, normalized units); `NaN` when there is no validation set. */
  readonly validLoss: number;
  /** Validation RMSE in pixels, `sqrt(validLoss) × 48`. */
  readonly validRmsePx: number;
  /** Learning rate used during this epoch. */
  readonly learningRate: number;
  /** Momentum used during this epoch. */
  readonly momentum: number;
  /** Wall time of the epoch (training + validation), milliseconds. */
  readonly durationMs: number;
}

/**
 * One row of a run's history — one epoch: its 0-based `epoch` and its {@link EpochLogs}. The rows of
 * `history.json` (`writeHistory` / `readHistory` of `@keypoints/core/node`) and of the training
 * package's `HistoryCallback`.
 */
export interface HistoryRow extends EpochLogs {
  readonly epoch: number;
}
