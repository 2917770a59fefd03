
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
  /** Final-epoch validation RMSE, pixels. */
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
  /** `1 − finalValidRmsePx / baselineValidRmsePx`. */
  readonly improvementOverBaseline: number;
  readonly trainCount: number;
  readonly validationCount: number;
  readonly backend: string;
  readonly trainSeconds: number;
  readonly status: string;
  readonly stopReason?: string;
  readonly [extra: string]: unknown;
}
