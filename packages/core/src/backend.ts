import { BackendInitError, ConfigError, backendAlias } from './errors.js';
import type { Logger } from './clock.js';

/**
 * A TensorFlow.js backend packaged as a plugin (`@keypoints/backend-*`).
 *
 * Registration is explicit (no import side effects): the plugin's `init()` registers
 * the backend with tfjs, makes it current and waits until it is ready.
 */
export interface BackendPlugin {
  /** tfjs backend name, e.g. `wasm`, `cpu`, `tensorflow` (tfjs-node), `node-gpu`. */
  readonly name: string;
  /** Higher is tried first by the default chain (node-gpu 400 → node 300 → wasm 200 → cpu 100). */
  readonly priority: number;
  /** One line for `--help` and logs. */
  readonly description: string;
  /**
   * Load, register and activate the backend.
   * @throws {BackendInitError} when it cannot load; the message says how to fix it.
   */
  init(): Promise<void>;
}

/** What {@link selectBackend} chose, and why the others were skipped. */
export interface BackendSelection {
  readonly plugin: BackendPlugin;
  /** Plugins tried before it that failed, with their errors. */
  readonly skipped: ReadonlyArray<{ name: string; error: Error }>;
}

/**
 * Initialise a backend: the one named, or else the first of the priority chain that
 * initialises (node-gpu → node → wasm → cpu). Only one backend is ever initialised, so
 * tfjs-node and tfjs-node-gpu are never loaded together.
 *
 * @param plugins the available backend plugins.
 * @param name backend to use; when given, its failure is thrown, never skipped.
 * @throws {ConfigError} when `name` matches no plugin (the message lists the known ones).
 * @throws {BackendInitError} when the named backend fails, or every backend in the chain fails.
 */
export async function selectBackend(
  plugins: readonly BackendPlugin[],
  name?: string,
  logger?: Logger,
): Promise<BackendSelection> {
  if (plugins.length === 0) throw new ConfigError('no backend plugins registered');
  if (name !== undefined) {
    const plugin = plugins.find((p) => p.name === name || backendAlias(p.name) === name);
    if (!plugin) {
      throw new ConfigError(
        `unknown backend '${name}'; available: ${plugins.map((p) => (backendAlias(p.name) === p.name ? p.name : `${backendAlias(p.name)} (${p.name})`)).join(', ')}`,
      );
    }
    await plugin.init();
    return { plugin, skipped: [] };
  }
  const chain = [...plugins].sort((a, b) => b.priority - a.priority);
  const skipped: Array<{ name: string; error: Error }> = [];
  for (const plugin of chain) {
    try {
      await plugin.init();
      // One short line per skipped backend; the full remedy is in the error when it is named.
      for (const s of skipped) logger?.info(`backend '${backendAlias(s.name)}' skipped (${s.error.message.split(';')[0].replace(/^backend '[^']*': /, '')})`);
      return { plugin, skipped };
    } catch (error) {
      skipped.push({ name: plugin.name, error: error as Error });
    }
  }
  throw new BackendInitError(
    'auto',
    `no backend could be initialised:\n${skipped.map((s) => `  - ${backendAlias(s.name)}: ${s.error.message}`).join('\n')}`,
  );
}

/** The part of the tfjs namespace {@link activateTfjsBackend} needs (core does not import tfjs). */
export interface TfjsBackendSwitch {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
}

/**
 * Make a registered tfjs backend current and wait until it is ready. tfjs's `setBackend` reports a
 * failed initialisation by returning `false` (and a console warning); this turns that, and a
 * throw, into a {@link BackendInitError} of `plugin`.
 *
 * @param whenFalse the message (with its remedy) when `setBackend` returns false.
 * @throws {BackendInitError} when `setBackend` throws or returns false.
 */
export async function activateTfjsBackend(
  tf: TfjsBackendSwitch,
  backendName: string,
  plugin: string,
  whenFalse: string,
): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(backendName);
  } catch (error) {
    throw new BackendInitError(plugin, `tf.setBackend('${backendName}') threw: ${(error as Error).message}`, { cause: error });
  }
  if (!ok) throw new BackendInitError(plugin, whenFalse);
  await tf.ready();
}

