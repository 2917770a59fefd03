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
import { Trainer, type TrainerOptions } from './trainer.js';

/** What {@link registerTraining} registers. */
export interface TrainingRegistration {
  /** Optimizer settings (defaults: lr 0.01, momentum 0.9). */
  readonly trainer?: TrainerOptions;
  /** Callback plugins of the run (each registered under `CALLBACKS`). */
  readonly callbacks?: readonly TrainingCallback[];
  /** Time source; default the system clock. */
  readonly clock?: Clock;
}

/**
 * Register the training services in `container` (use a child container per run):
 * `TRAINER_OPTIONS`, `CLOCK`, every callback under `CALLBACKS`, and `TRAINER` → {@link Trainer}.
 * Add your own callback plugins with `container.register(CALLBACKS, { useValue: myCallback })`
 * before resolving `TRAINER`.
 */
export function registerTraining(container: DependencyContainer, options: TrainingRegistration = {}): void {
  container.register(TRAINER_OPTIONS, { useValue: options.trainer ?? {} });
  container.register(CLOCK, { useValue: options.clock ?? systemClock });
  for (const cb of options.callbacks ?? []) container.register(CALLBACKS, { useValue: cb });
  container.register(TRAINER, { useClass: Trainer });
}
