import { BackendInitError, ConfigError, backendAlias, isKeypointsError } from './errors.js';
import type { Logger } from './clock.js';
import { inject, injectAll, injectable, type DependencyContainer } from './di.js';
import { BACKEND_NAME, BACKEND_PLUGINS, LOGGER } from './tokens.js';

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
 * The names `--backend` accepts for `plugins`, highest priority first (the default chain's order).
 * tfjs-node's plugin (`tensorflow`) is listed as `node`; see {@link backendAlias}.
 *
 * @example
 * ```ts
 * backendNames([cpuBackend, wasmBackend, nodeBackend, nodeGpuBackend]); // ['node-gpu', 'node', 'wasm', 'cpu']
 * ```
 */
export function backendNames(plugins: readonly BackendPlugin[]): string[] {
  return byPriority(plugins).map((p) => backendAlias(p.name));
}

function byPriority(plugins: readonly BackendPlugin[]): BackendPlugin[] {
  return [...plugins].sort((a, b) => b.priority - a.priority);
}

/** `plugins` in the order given, tfjs-node as `node (tensorflow)`. */
function listed(plugins: readonly BackendPlugin[]): string {
  return plugins
    .map((p) => (backendAlias(p.name) === p.name ? p.name : `${backendAlias(p.name)} (${p.name})`))
    .join(', ');
}

/**
 * Run `plugin.init()`. A plugin should throw {@link BackendInitError} itself; anything else it
 * throws (a third-party plugin's plain `Error`) becomes one, with the other backends as the remedy.
 */
async function initPlugin(plugin: BackendPlugin, all: readonly BackendPlugin[]): Promise<void> {
  try {
    await plugin.init();
  } catch (error) {
    if (isKeypointsError(error, 'BACKEND_INIT')) throw error;
    const others = backendNames(all.filter((p) => p !== plugin));
    throw new BackendInitError(
      plugin.name,
      `init() failed: ${error instanceof Error ? error.message : String(error)}; ` +
        `fix or reinstall the package that provides it${others.length > 0 ? `, or pick another backend (${others.map((n) => `--backend ${n}`).join(', ')})` : ''}`,
      { cause: error },
    );
  }
}

/**
 * Initialise a backend: the one named, or else the first of the priority chain that
 * initialises (node-gpu → node → wasm → cpu for the default plugins). Only one backend is ever
 * initialised, so tfjs-node and tfjs-node-gpu are never loaded together.
 *
 * Hosts that use DI resolve {@link BackendRegistry} (or call {@link resolveBackend}) instead of
 * passing a list.
 *
 * @param plugins the available backend plugins (any order; the chain sorts them by `priority`).
 * @param name backend to use (its plugin name or `--backend` alias, e.g. `node`); when given, its
 *   failure is thrown, never skipped. Default: the priority chain.
 * @param logger gets one `info` line per backend the chain skipped. Default: silent.
 * @throws {ConfigError} when no plugin is given, or `name` matches none (the message lists the known ones).
 * @throws {BackendInitError} when the named backend fails (with its remedy), or every backend in the chain fails.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@keypoints/core';
 * import { createCpuBackend } from '@keypoints/backend-cpu';
 * const { plugin, skipped } = await selectBackend([createCpuBackend()]);
 * ```
 */
export async function selectBackend(
  plugins: readonly BackendPlugin[],
  name?: string,
  logger?: Logger,
): Promise<BackendSelection> {
  if (plugins.length === 0) {
    throw new ConfigError(
      'no backend plugins registered; register some under BACKEND_PLUGINS (e.g. registerDefaultBackends(container) from @keypoints/pipeline, or registerCpuBackend(container) from @keypoints/backend-cpu)',
    );
  }
  if (name !== undefined) {
    const plugin = plugins.find((p) => p.name === name || backendAlias(p.name) === name);
    if (!plugin) throw new ConfigError(`unknown backend '${name}'; available: ${listed(plugins)}`);
    await initPlugin(plugin, plugins);
    return { plugin, skipped: [] };
  }
  const skipped: Array<{ name: string; error: Error }> = [];
  for (const plugin of byPriority(plugins)) {
    try {
      await initPlugin(plugin, plugins);
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

/**
 * The backend plugins registered in a container under `BACKEND_PLUGINS`, and the choice among
 * them: the host side of backend plugins. Resolve it from the run's (or the CLI's) container;
 * it is not registered itself, tsyringe constructs it from its `@injectAll` / `@inject` parameters:
 *
 * - `BACKEND_PLUGINS` (many): the candidates, whoever registered them (our
 *   `registerDefaultBackends`, a plugin's `register<X>Backend`, or `container.register` of any
 *   {@link BackendPlugin}). None registered is allowed; {@link BackendRegistry.select} then throws.
 * - `BACKEND_NAME` (optional): the backend {@link BackendRegistry.select} picks when called without a name.
 * - `LOGGER` (optional): told which backends the chain skipped.
 *
 * @throws {ConfigError} from `container.resolve(BackendRegistry)` when two plugins share a
 *   `--backend` name.
 *
 * @example
 * ```ts
 * import { BACKEND_PLUGINS, BackendRegistry, container } from '@keypoints/core';
 * import { registerCpuBackend } from '@keypoints/backend-cpu';
 * const host = container.createChildContainer();
 * registerCpuBackend(host);
 * host.register(BACKEND_PLUGINS, { useValue: myBackendPlugin }); // a third-party backend
 * const registry = host.resolve(BackendRegistry);
 * registry.names(); // ['my-backend', 'cpu'] (by priority)
 * await registry.select('my-backend');
 * ```
 */
@injectable()
export class BackendRegistry {
  /** The registered plugins, highest priority first. */
  readonly plugins: readonly BackendPlugin[];

  constructor(
    @injectAll(BACKEND_PLUGINS, { isOptional: true }) plugins: BackendPlugin[],
    @inject(BACKEND_NAME, { isOptional: true }) private readonly defaultName?: string,
    @inject(LOGGER, { isOptional: true }) private readonly logger?: Logger,
  ) {
    this.plugins = byPriority(plugins);
    const seen = new Map<string, BackendPlugin>();
    for (const p of this.plugins) {
      const key = backendAlias(p.name);
      const first = seen.get(key);
      if (first) {
        throw new ConfigError(
          `backend '${key}' is registered twice under BACKEND_PLUGINS (${first.description} / ${p.description}); ` +
            'register each backend once per container (call registerDefaultBackends once, and give a third-party backend its own name)',
        );
      }
      seen.set(key, p);
    }
  }

  /** The names `--backend` accepts, highest priority first (e.g. `node-gpu, node, wasm, cpu`). */
  names(): string[] {
    return backendNames(this.plugins);
  }

  /** The plugin `--backend name` selects (plugin name or alias), or `undefined`. */
  find(name: string): BackendPlugin | undefined {
    return this.plugins.find((p) => p.name === name || backendAlias(p.name) === name);
  }

  /**
   * Initialise a backend with {@link selectBackend}: `name`, else the registered `BACKEND_NAME`,
   * else the first of the priority chain that initialises (skipped ones are logged to `LOGGER`).
   *
   * @throws {ConfigError} when nothing is registered, or the name matches no plugin (the message lists them).
   * @throws {BackendInitError} when the named backend fails (with its remedy), or every backend of the chain fails.
   */
  select(name: string | undefined = this.defaultName): Promise<BackendSelection> {
    return selectBackend(this.plugins, name, this.logger);
  }
}

/**
 * Initialise a backend from what `container` has registered under `BACKEND_PLUGINS`:
 * `container.resolve(BackendRegistry).select(name)`.
 *
 * @param name backend to use; default the container's `BACKEND_NAME`, else the priority chain.
 * @throws {ConfigError} when no plugin is registered, or `name` matches none.
 * @throws {BackendInitError} when the named backend fails, or every backend of the chain fails.
 *
 * @example
 * ```ts
 * import { container, resolveBackend } from '@keypoints/core';
 * import { registerWasmBackend } from '@keypoints/backend-wasm';
 * const host = container.createChildContainer();
 * registerWasmBackend(host, { threads: 2 });
 * const { plugin } = await resolveBackend(host, 'wasm');
 * ```
 */
export function resolveBackend(container: DependencyContainer, name?: string): Promise<BackendSelection> {
  return container.resolve(BackendRegistry).select(name);
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

