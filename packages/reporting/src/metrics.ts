
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
   * Which weights the saved model holds: 1-based `epoch`, `weights` (`best`: restored by early
   * stopping; `last`; `partial`: cancelled mid-epoch; `unknown`) and their `validRmsePx`.
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
  readonly status: string;
  readonly stopReason?: string;
  readonly [extra: string]: unknown;
}
