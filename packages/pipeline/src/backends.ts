import {
  BACKEND_NAME,
  BackendRegistry,
  LOGGER,
  backendAlias,
  container as rootContainer,
  type DependencyContainer,
  type Logger,
} from '@keypoints/core';
import { registerCpuBackend } from '@keypoints/backend-cpu';
import { registerNodeBackend } from '@keypoints/backend-node';
import { registerNodeGpuBackend } from '@keypoints/backend-node-gpu';
import { registerWasmBackend } from '@keypoints/backend-wasm';

/** Options of {@link registerDefaultBackends}. */
export interface DefaultBackendOptions {
  /** Threads of the wasm backend (default: every core); ignored by the other backends. */
  readonly threads?: number;
}

/** Options of {@link initBackend}. */
export interface BackendOptions extends DefaultBackendOptions {
  /**
   * The container whose `BACKEND_PLUGINS` are the candidates: a host's, with our defaults
   * ({@link registerDefaultBackends}) and/or its own plugins registered. `threads` is then ignored
   * (the host registered the wasm plugin with its own options). Default: a fresh child of the root
   * container with {@link registerDefaultBackends}`(options)`.
   */
  readonly container?: DependencyContainer;
}

/**
 * Register this project's four backend plugins under `BACKEND_PLUGINS` in `container`:
 * node-gpu (400) → node (300) → wasm (200) → cpu (100), the default chain. Each plugin package's
 * `register<X>Backend` does the registering; nothing is loaded until a backend is selected.
 * Add a third-party backend next to them with its own register function, or
 * `container.register(BACKEND_PLUGINS, { useValue: plugin })`. Call it once per container.
 *
 * @param options `threads` for the wasm backend (default: every core).
 * @returns `container`, for chaining.
 * @throws {ConfigError} when `threads` is not a positive integer.
 *
 * @example
 * ```ts
 * import { BackendRegistry, container } from '@keypoints/core';
 * import { registerDefaultBackends } from '@keypoints/pipeline';
 * const host = registerDefaultBackends(container.createChildContainer(), { threads: 2 });
 * host.resolve(BackendRegistry).names(); // ['node-gpu', 'node', 'wasm', 'cpu']
 * await host.resolve(BackendRegistry).select(); // the first that initialises
 * ```
 */
export function registerDefaultBackends(container: DependencyContainer, options: DefaultBackendOptions = {}): DependencyContainer {
  registerNodeGpuBackend(container);
  registerNodeBackend(container);
  registerWasmBackend(container, options.threads !== undefined ? { threads: options.threads } : {});
  registerCpuBackend(container);
  return container;
}

let active: string | undefined;

/**
 * Initialise the named backend, or else the first of the registered plugins' priority chain that
 * loads (with the defaults: node-gpu → node → wasm → cpu), through `BackendRegistry`. Returns the
 * plugin's name (`tensorflow` for `node`).
 *
 * Idempotent within a process: once a backend is active, a call without a name or naming that
 * backend returns it without initialising anything (so `trainRun`, the predictor and plots called
 * after a host selected its own backend keep using it); naming another one switches.
 *
 * @param name backend to use (`--backend`: `node-gpu`, `node`, `wasm`, `cpu`, or a registered
 *   third-party name); default the priority chain.
 * @param logger told which backends the chain skipped (registered as `LOGGER`). Default: silent.
 * @param options the candidates' container, or `threads` for the default wasm plugin.
 * @throws {ConfigError} when `name` matches no registered plugin (the message lists the registered ones).
 * @throws {BackendInitError} when the named backend cannot load, with the remedy (e.g.
 *   `npm install @tensorflow/tfjs-node@4.22.0` for `node`), or when no backend of the chain loads.
 *
 * @example
 * ```ts
 * import { BACKEND_PLUGINS, container } from '@keypoints/core';
 * import { initBackend, registerDefaultBackends } from '@keypoints/pipeline';
 * const host = registerDefaultBackends(container.createChildContainer());
 * host.register(BACKEND_PLUGINS, { useValue: myBackendPlugin }); // name 'my-backend'
 * await initBackend('my-backend', console, { container: host }); // 'my-backend'
 * ```
 */
export async function initBackend(name: string | undefined, logger?: Logger, options: BackendOptions = {}): Promise<string> {
  if (active && (name === undefined || name === active || name === backendAlias(active))) return active;
  const host = options.container ?? registerDefaultBackends(rootContainer.createChildContainer(), options);
  const scope = host.createChildContainer();
  if (name !== undefined) scope.register(BACKEND_NAME, { useValue: name });
  if (logger) scope.register(LOGGER, { useValue: logger });
  try {
    const { plugin } = await scope.resolve(BackendRegistry).select();
    active = plugin.name;
    return active;
  } finally {
    await scope.dispose();
    if (host !== options.container) await host.dispose();
  }
}
