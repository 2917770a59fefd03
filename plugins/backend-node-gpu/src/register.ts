import { BACKEND_PLUGINS, type DependencyContainer } from '@keypoints/core';
import { createNodeGpuBackend, type NodeGpuBackendOptions } from './node-gpu.backend.js';

/**
 * Register the optional `node-gpu` backend plugin ({@link createNodeGpuBackend}: tfjs-node-gpu,
 * priority 400) under `BACKEND_PLUGINS` in `container`. `@tensorflow/tfjs-node-gpu` is not
 * imported here; when the host selects this plugin without it (or without a GPU, unless
 * `requireGpu: false`), `init()` throws `BackendInitError` with the remedy
 * (`npm install @tensorflow/tfjs-node-gpu@4.22.0`, CUDA 11.2, cuDNN 8.1). Call it once per container.
 *
 * @param options see {@link NodeGpuBackendOptions} (default: `requireGpu: true`, load the installed package).
 * @returns `container`, for chaining.
 *
 * @example
 * ```ts
 * import { container, resolveBackend } from '@keypoints/core';
 * import { registerNodeGpuBackend } from '@keypoints/backend-node-gpu';
 * const host = container.createChildContainer();
 * registerNodeGpuBackend(host, { requireGpu: true });
 * await resolveBackend(host, 'node-gpu'); // BackendInitError with the remedy if unusable
 * ```
 */
export function registerNodeGpuBackend(container: DependencyContainer, options: NodeGpuBackendOptions = {}): DependencyContainer {
  container.register(BACKEND_PLUGINS, { useValue: createNodeGpuBackend(options) });
  return container;
}
