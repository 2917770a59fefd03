import { reseedDropout } from '@keypoints/models';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from '@keypoints/training';

/**
 * Reproducible dropout: at each epoch start, restarts the mask stream of every seeded
 * `KeypointsDropout` layer of the model (built with the run's `--seed`) from (seed, layer name,
 * epoch) — see `reseedDropout` of `@keypoints/models`. Two runs with the same seed then draw the same
 * masks, and a resumed run draws, from its first epoch on, the masks the uninterrupted run drew. No
 * effect on a model without seeded dropout layers. Stateless (nothing to checkpoint). Order 100,
 * with the schedules, before anything trains.
 */
export class DropoutSeedCallback implements TrainingCallback {
  readonly name = 'dropout-seed';
  readonly order = CALLBACK_ORDER.schedule;

  onEpochStart(ctx: CallbackContext): void {
    reseedDropout(ctx.model, ctx.epoch);
  }
}
