/**
 * DI tokens shared by every package. Each is a `Symbol.for(...)` so two copies of this
 * package still agree. Register values with `container.register(TOKEN, …)`.
 */

/** `BackendPlugin` (many, `@injectAll`): candidate tfjs backends. */
export const BACKEND_PLUGINS = Symbol.for('keypoints.BackendPlugins');
/** `string | undefined`: the backend the user named (`--backend`), else the priority chain. */
export const BACKEND_NAME = Symbol.for('keypoints.BackendName');
/** `TrainingCallback` (many, `@injectAll`): callbacks of a run. */
export const CALLBACKS = Symbol.for('keypoints.Callbacks');
/** `Clock`: time source (injectable for tests). */
export const CLOCK = Symbol.for('keypoints.Clock');
/** `Logger`: where human-readable messages go. */
export const LOGGER = Symbol.for('keypoints.Logger');
/** `TrainerOptions`: optimizer and loop settings. */
export const TRAINER_OPTIONS = Symbol.for('keypoints.TrainerOptions');
/** `Trainer`: the training loop. */
export const TRAINER = Symbol.for('keypoints.Trainer');
/** `ModelBuilder` (many): model builders by name (`fc`, `cnn`, …). */
export const MODEL_BUILDERS = Symbol.for('keypoints.ModelBuilders');
/** `DataSource`: where a run's data comes from. */
export const DATA_SOURCE = Symbol.for('keypoints.DataSource');
/** `number`: the run's seed. */
export const SEED = Symbol.for('keypoints.Seed');
