
/**
 * The figures of a finished run, written to `metrics.json`. RMSE values are in pixels of the
 * 96×96 frame; losses are MSE in normalized units.
 */
export interface RunMetrics {
  /** Run name (the folder under `runs/`). */
  readonly model: string;
  /** Descriptive model name, e.g. `3con_2fc_b128_e1000_aug_lrdec_mominc_dr`. */
  readonly modelName?: string;
  readonly epochs: number;
  /**
   * The headline: validation RMSE of the saved model (`model/`), pixels — with early stopping,
   * the restored best epoch's, not the last epoch's. Absent in runs written before it existed
   * (their `finalValidRmsePx` described the last epoch).
   */
  readonly validRmsePx?: number;
  /**
   * Which weights the saved model holds: 1-based `epoch`, `weights` (`best`: restored to the best
   * epoch by early stopping — with `--patience`, or kept for a `--max-time` run; `last`; `partial`:
   * cancelled mid-epoch; `unknown`) and their `validRmsePx`.
   */
  readonly savedModel?: {
    readonly epoch: number;
    readonly weights: 'best' | 'last' | 'partial' | 'unknown';
    readonly validRmsePx: number;
  };
  /** Last-epoch validation RMSE, pixels (not the saved model's when early stopping restored an earlier epoch). */
  readonly finalValidRmsePx: number;
  /** Best validation RMSE over the run, pixels, and its 1-based epoch. */
  readonly bestValidRmsePx: number;
  readonly bestEpoch: number;
  /** Final-epoch training RMSE, pixels. */
  readonly finalTrainRmsePx: number;
  /**
   * RMSE of the mean-shape baseline (predict the training-set mean of every keypoint) on the same
   * validation split, pixels.
   */
  readonly baselineValidRmsePx: number;
  /** `1 − validRmsePx / baselineValidRmsePx`: the saved model against the baseline (older runs: the last epoch's). */
  readonly improvementOverBaseline: number;
  readonly trainCount: number;
  readonly validationCount: number;
  readonly backend: string;
  readonly trainSeconds: number;
  /** How the fit ended: `completed`, `stopped` (early stopping, the time budget), `cancelled` or `interrupted` (Ctrl-C). */
  readonly status: string;
  /** Why it stopped, in words, e.g. `time budget of 30 min spent (29.6 min, 41 epochs)`. */
  readonly stopReason?: string;
  /**
   * Which callback stopped the run (with `stopReason`): `max-time` (the `--max-time` budget),
   * `early-stopping` or `interrupt`; absent when the run completed its epochs (and in older runs).
   */
  readonly stoppedBy?: string;
  /** The run's wall-time budget, minutes (`--max-time`); absent without one. */
  readonly maxTimeMinutes?: number;
  readonly [extra: string]: unknown;
}
