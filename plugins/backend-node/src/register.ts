import { BACKEND_PLUGINS, type DependencyContainer } from '@keypoints/core';
import { createNodeBackend, type NodeBackendOptions } from './node.backend.js';

/**
 * Register the optional tfjs-node backend plugin ({@link createNodeBackend}: plugin name
 * `tensorflow`, `--backend node`, priority 300) under `BACKEND_PLUGINS` in `container`.
 * `@tensorflow/tfjs-node` is not imported here; when the host selects this plugin without it
 * installed, `init()` throws `BackendInitError` naming `npm install @tensorflow/tfjs-node@4.22.0`.
 * Call it once per container.
 *
 * @param options see {@link NodeBackendOptions} (default: load the installed package).
 * @returns `container`, for chaining.
 *
 * @example
 * ```ts
 * import { container, resolveBackend } from '@keypoints/core';
 * import { registerNodeBackend } from '@keypoints/backend-node';
 * const host = container.createChildContainer();
 * registerNodeBackend(host);
 * await resolveBackend(host, 'node'); // BackendInitError with the install command if missing
 * ```
 */
export function registerNodeBackend(container: DependencyContainer, options: NodeBackendOptions = {}): DependencyContainer {
  container.register(BACKEND_PLUGINS, { useValue: createNodeBackend(options) });
  return container;
}
