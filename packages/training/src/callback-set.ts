import { ConfigError } from '@keypoints/core';
import type { TrainingCallback } from './callback.js';

/** The parts {@link mergeCallbacks} combines. */
export interface CallbackSelection {
  /** Default callbacks (each `name` unique). */
  readonly defaults?: readonly TrainingCallback[];
  /** The user's callbacks: one with a default's `name` replaces it, the others are added (names unique). */
  readonly callbacks?: readonly TrainingCallback[];
  /** Names of defaults to leave out (each must name a default). */
  readonly remove?: readonly string[];
}

/**
 * The callbacks of a run by name: the defaults minus the removed ones, each default replaced by the
 * user's callback of the same name (it takes the default's place among equal `order`s), then the
 * user's other callbacks. Ordering by `order` happens later, in the trainer.
 *
 * @example
 * ```ts
 * mergeCallbacks({ defaults: [new HistoryCallback(), progress], callbacks: [myHistory], remove: ['progress'] });
 * // → [myHistory]
 * ```
 * @throws {ConfigError} when two defaults or two user callbacks share a name, a callback has no
 * name, or `remove` names no default (the message lists the defaults' names).
 */
export function mergeCallbacks(selection: CallbackSelection): TrainingCallback[] {
  const defaults = selection.defaults ?? [];
  const callbacks = selection.callbacks ?? [];
  uniqueNames(defaults, 'default training callback');
  const mine = uniqueNames(callbacks, 'training callback');
  const defaultNames = new Set(defaults.map((d) => d.name));
  const removed = new Set(selection.remove ?? []);
  for (const name of removed) {
    if (!defaultNames.has(name)) {
      throw new ConfigError(
        `cannot remove training callback '${name}': no default callback has that name; defaults: ${[...defaultNames].join(', ') || '(none)'}`,
      );
    }
  }
  const out: TrainingCallback[] = [];
  for (const d of defaults) {
    const replacement = mine.get(d.name);
    if (replacement) out.push(replacement);
    else if (!removed.has(d.name)) out.push(d);
  }
  for (const cb of callbacks) if (!defaultNames.has(cb.name)) out.push(cb);
  return out;
}

function uniqueNames(callbacks: readonly TrainingCallback[], what: string): Map<string, TrainingCallback> {
  const byName = new Map<string, TrainingCallback>();
  for (const cb of callbacks) {
    if (!cb || typeof cb.name !== 'string' || cb.name === '') throw new ConfigError(`a ${what} has no name`);
    if (byName.has(cb.name)) throw new ConfigError(`duplicate ${what} '${cb.name}'`);
    byName.set(cb.name, cb);
  }
  return byName;
}
