import { ConfigError } from '@keypoints/core';
import { CALLBACK_HOOKS, CALLBACK_ORDER, type CallbackContext, type CallbackHook, type TrainingCallback } from './callback.js';

const KNOWN_KEYS = new Set<string>([...CALLBACK_HOOKS, 'name', 'order', 'getState', 'setState']);

/**
 * Runs a set of callbacks in ascending `order` (ties keep registration order), awaiting each.
 *
 * @throws {ConfigError} on duplicate names, or a method whose name looks like a misspelt hook
 * (e.g. `onEpochEnded`), listing the valid hook names.
 */
export class CallbackRunner {
  readonly callbacks: readonly TrainingCallback[];

  constructor(callbacks: readonly TrainingCallback[]) {
    const seen = new Set<string>();
    for (const cb of callbacks) {
      if (!cb.name) throw new ConfigError('a training callback has no name');
      if (seen.has(cb.name)) throw new ConfigError(`duplicate training callback '${cb.name}'`);
      seen.add(cb.name);
      for (const key of methodNames(cb)) {
        if (/^on[A-Z]/.test(key) && !KNOWN_KEYS.has(key)) {
          throw new ConfigError(
            `callback '${cb.name}' has an unknown hook '${key}'; valid hooks: ${CALLBACK_HOOKS.join(', ')}`,
          );
        }
      }
    }
    this.callbacks = callbacks
      .map((cb, i) => ({ cb, i }))
      .sort((a, b) => (a.cb.order ?? CALLBACK_ORDER.default) - (b.cb.order ?? CALLBACK_ORDER.default) || a.i - b.i)
      .map((x) => x.cb);
  }

  /** Call `hook` on every callback that has it, in order, awaiting each. */
  async run(hook: CallbackHook, ctx: CallbackContext): Promise<void> {
    for (const cb of this.callbacks) {
      const fn = cb[hook];
      if (fn) await fn.call(cb, ctx);
    }
  }

  /** Whether any callback implements `hook` (lets the trainer skip per-batch work). */
  has(hook: CallbackHook): boolean {
    return this.callbacks.some((cb) => typeof cb[hook] === 'function');
  }

  /** A table of which callback runs at which event, in order (fastai's `show_training_loop`). */
  describe(): string {
    return CALLBACK_HOOKS.map((hook) => {
      const names = this.callbacks.filter((cb) => typeof cb[hook] === 'function').map((cb) => cb.name);
      return `${hook}: ${names.length ? names.join(' → ') : '—'}`;
    }).join('\n');
  }

  /** Saveable states of the stateful callbacks, by name. */
  getStates(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const cb of this.callbacks) if (cb.getState) out[cb.name] = cb.getState();
    return out;
  }

  /** Restore states from {@link getStates}; unknown names are an error. */
  setStates(states: Record<string, unknown>): void {
    for (const [name, state] of Object.entries(states)) {
      const cb = this.callbacks.find((c) => c.name === name);
      if (!cb?.setState) throw new ConfigError(`checkpoint has state for callback '${name}', which is not in this run`);
      cb.setState(state);
    }
  }
}

function methodNames(obj: object): string[] {
  const names = new Set<string>();
  let p: object | null = obj;
  while (p && p !== Object.prototype) {
    for (const k of Object.getOwnPropertyNames(p)) if (k !== 'constructor') names.add(k);
    p = Object.getPrototypeOf(p);
  }
  return [...names];
}
