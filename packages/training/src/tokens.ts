/**
 * DI tokens of `@keypoints/training` (in addition to core's `CALLBACKS`, `CLOCK`, `TRAINER_OPTIONS`,
 * `TRAINER`). Each is a `Symbol.for(...)`, so two copies of this package still agree.
 */

/**
 * `TrainingCallback` (many, `@injectAll`): the DEFAULT callbacks of a run (history, checkpoint,
 * progress, …). A callback registered under core's `CALLBACKS` with the same `name` replaces the
 * default; a name registered under {@link REMOVED_CALLBACKS} removes it.
 */
export const DEFAULT_CALLBACKS = Symbol.for('keypoints.DefaultCallbacks');

/** `string` (many, `@injectAll`): names of default callbacks to leave out of the run. */
export const REMOVED_CALLBACKS = Symbol.for('keypoints.RemovedCallbacks');
