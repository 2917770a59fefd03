import { CALLBACK_ORDER, type CallbackContext, type RunDirectoryOptions, type TrainingCallback } from '@keypoints/training';

/** The `status` an interrupted run's `metrics.json` carries (see {@link InterruptCallback}). */
export const INTERRUPTED_STATUS = 'interrupted';

/**
 * Stops a fit at the next epoch end once `signal` aborts (a user's Ctrl-C / SIGTERM in
 * `keypoints train`): the epoch in progress finishes, `onEpochEnd` callbacks record and checkpoint
 * it, then the fit ends (`fitEnd { status: 'stopped', stopReason }`), so `history.json`,
 * `metrics.json`, `model/` and `checkpoints/last` describe the same epochs and `--resume` continues
 * from the next one. (Aborting the Trainer's own `FitOptions.signal` instead stops after the current
 * *batch*: the partial epoch is not recorded, but its updates are in the weights the run directory
 * saves.) Runs at order 850, after `checkpoint` (800) saved the epoch.
 *
 * A stop requested earlier in the same epoch (early stopping, a NaN guard) wins: the run then ended
 * for that reason, not because of the interrupt, and {@link interrupted} stays false.
 */
export class InterruptCallback implements TrainingCallback {
  readonly name = 'interrupt';
  readonly order = CALLBACK_ORDER.checkpoint + 50;
  private fired = false;

  /**
   * @param signal - aborts when the user interrupts; its `reason` (a string) becomes the stop
   * reason, default `interrupted`.
   */
  constructor(private readonly signal: AbortSignal) {}

  /** True when this fit ended because of the interrupt. */
  get interrupted(): boolean {
    return this.fired;
  }

  /** The stop reason this callback requests. */
  get reason(): string {
    const r: unknown = this.signal.reason;
    return typeof r === 'string' && r !== '' ? r : INTERRUPTED_STATUS;
  }

  onFitStart(): void {
    this.fired = false;
  }

  onEpochEnd(ctx: CallbackContext): void {
    if (!this.signal.aborted || ctx.stopRequested !== undefined) return;
    ctx.requestStop(this.reason);
    this.fired = ctx.stopRequested === this.reason;
  }

  /**
   * Wrap a `metrics.json` function so an interrupted fit's metrics say `status: 'interrupted'`
   * (instead of the Trainer's `stopped`), keeping the stop reason.
   */
  statusOf(metrics: NonNullable<RunDirectoryOptions['metrics']>): NonNullable<RunDirectoryOptions['metrics']> {
    return async (fit) => {
      const m = await metrics(fit);
      return m && this.fired ? { ...m, status: INTERRUPTED_STATUS } : m;
    };
  }
}
