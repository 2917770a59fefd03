/**
 * DI tokens shared by every package. Each is a `Symbol.for(...)` so two copies of this
 * package still agree. Register values with `container.register(TOKEN, …)`.
 */

/** `BackendPlugin` (many, `@injectAll`): candidate tfjs backends, read by `BackendRegistry`. */
export const BACKEND_PLUGINS = Symbol.for('keypoints.BackendPlugins');
/**
 * `string` (optional): the backend the host named (`--backend`); `BackendRegistry.select()` without
 * a name selects it, and falls back to the priority chain when it is not registered.
 */
export const BACKEND_NAME = Symbol.for('keypoints.BackendName');
/** `TrainingCallback` (many, `@injectAll`): callbacks of a run. */
export const CALLBACKS = Symbol.for('keypoints.Callbacks');
/** `Clock`: time source (injectable for tests). */
export const CLOCK = Symbol.for('keypoints.Clock');
/** `Logger` (optional): where human-readable messages go; `BackendRegistry` reports skipped backends to it. */
export const LOGGER = Symbol.for('keypoints.Logger');
/** `TrainerOptions`: optimizer and loop settings. */
export const TRAINER_OPTIONS = Symbol.for('keypoints.TrainerOptions');
/** `Trainer`: the training loop. */
export const TRAINER = Symbol.for('keypoints.Trainer');
/**
 * `FaceDetector` (many, `@injectAll`): face-detector plugins for photos (`keypoints predict`); the host
 * picks one by name or the highest priority (`resolveFaceDetector`).
 */
export const FACE_DETECTORS = Symbol.for('keypoints.FaceDetectors');
