import { BACKEND_PLUGINS, type DependencyContainer } from '@keypoints/core';
import { createCpuBackend } from './cpu.backend.js';

/**
 * Register the `cpu` backend plugin ({@link createCpuBackend}, priority 100) under
 * `BACKEND_PLUGINS` in `container`. Nothing is loaded or activated here: the host's
 * `BackendRegistry` calls the plugin's `init()` when it selects it. Call it once per container.
 *
 * @returns `container`, for chaining.
 *
 * @example
 * ```ts
 * import { container, resolveBackend } from '@keypoints/core';
 * import { registerCpuBackend } from '@keypoints/backend-cpu';
 * const host = container.createChildContainer();
 * registerCpuBackend(host);
 * await resolveBackend(host, 'cpu');
 * ```
 */
export function registerCpuBackend(container: DependencyContainer): DependencyContainer {
  container.register(BACKEND_PLUGINS, { useValue: createCpuBackend() });
  return container;
}
