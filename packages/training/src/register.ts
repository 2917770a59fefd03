import {
  CALLBACKS,
  CLOCK,
  TRAINER,
  TRAINER_OPTIONS,
  systemClock,
  type Clock,
  type DependencyContainer,
} from '@keypoints/core';
import type { TrainingCallback } from './callback.js';
import { DEFAULT_CALLBACKS, REMOVED_CALLBACKS } from './tokens.js';
import { Trainer, type TrainerOptions } from './trainer.js';

/** What {@link registerTraining} registers. */
export interface TrainingRegistration {
  /** Optimizer settings (defaults: lr 0.01, momentum 0.9). */
  readonly trainer?: TrainerOptions;
  /**
   * The run's default callbacks (registered under {@link DEFAULT_CALLBACKS}); names must be unique.
   * A layer above the trainer (the pipeline) puts its history, checkpoint, progress, … here.
   */
  readonly defaults?: readonly TrainingCallback[];
  /**
   * The user's callback plugins (registered under core's `CALLBACKS`). One whose `name` equals a
   * default's REPLACES that default (e.g. your own `history` or `checkpoint`); the others are added.
   */
  readonly callbacks?: readonly TrainingCallback[];
  /** Names of default callbacks to remove (registered under {@link REMOVED_CALLBACKS}), e.g. `['progress']`. */
  readonly remove?: readonly string[];
  /** Time source; default the system clock. */
  readonly clock?: Clock;
}

/**
 * Register the training services in `container` (use a child container per run):
 * `TRAINER_OPTIONS`, `CLOCK`, the defaults under {@link DEFAULT_CALLBACKS}, the user's callbacks
 * under `CALLBACKS`, the removed names under {@link REMOVED_CALLBACKS}, and `TRAINER` →
 * {@link Trainer}. The trainer merges them by name when it is resolved (see `mergeCallbacks`), so
 * you may also add to any of the three tokens yourself before resolving `TRAINER`:
 * `container.register(CALLBACKS, { useValue: myCallback })` or
 * `container.register(REMOVED_CALLBACKS, { useValue: 'progress' })`. With no callbacks at all the
 * trainer resolves and fits with none.
 *
 * @example
 * ```ts
 * const run = container.createChildContainer();
 * registerTraining(run, { defaults: [new HistoryCallback(), progress], callbacks: [myHistory], remove: ['progress'] });
 * const trainer = run.resolve<Trainer>(TRAINER); // callbacks: myHistory
 * ```
 * @throws {ConfigError} (when `TRAINER` is resolved) on duplicate names, a removal that names no
 * default, or a misspelt hook.
 */
export function registerTraining(container: DependencyContainer, options: TrainingRegistration = {}): void {
  container.register(TRAINER_OPTIONS, { useValue: options.trainer ?? {} });
  container.register(CLOCK, { useValue: options.clock ?? systemClock });
  for (const cb of options.defaults ?? []) container.register(DEFAULT_CALLBACKS, { useValue: cb });
  for (const cb of options.callbacks ?? []) container.register(CALLBACKS, { useValue: cb });
  for (const name of options.remove ?? []) container.register(REMOVED_CALLBACKS, { useValue: name });
  container.register(TRAINER, { useClass: Trainer });
}
