import { KeypointsError } from '@keypoints/core';
import { CALLBACK_ORDER, type CallbackContext, type TrainingCallback } from './callback.js';

/**
 * Fails the fit with a `TRAINING_DIVERGED` error (on the event stream's error channel) as soon
 * as an epoch's training loss — or its validation loss, when there is a validation set — is NaN
 * or infinite (Keras `TerminateOnNaN`). It runs before checkpoints (order 150 < 800), so the
 * diverged epoch is never saved and the last good checkpoint stays.
 */
export class NanGuardCallback implements TrainingCallback {
  readonly name = 'nan-guard';
  readonly order = CALLBACK_ORDER.guard;

  onEpochEnd(ctx: CallbackContext): void {
    const { trainLoss, validLoss } = ctx.logs!;
    const which = !Number.isFinite(trainLoss)
      ? `training loss is ${trainLoss}`
      : ctx.hasValidation && !Number.isFinite(validLoss)
        ? `validation loss is ${validLoss}`
        : undefined;
    if (which) {
      throw new KeypointsError(
        'TRAINING_DIVERGED',
        `${which} at epoch ${ctx.epoch + 1} (learning rate ${ctx.learningRate}, momentum ${ctx.momentum}); ` +
          'lower the learning rate or check the data; the last good checkpoint, if any, is kept',
      );
    }
  }
}
