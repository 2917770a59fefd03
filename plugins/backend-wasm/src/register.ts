import { BACKEND_PLUGINS, type DependencyContainer } from '@keypoints/core';
import { createWasmBackend, type WasmBackendOptions } from './wasm.backend.js';

/**
 * Register the `wasm` backend plugin ({@link createWasmBackend}: threaded-SIMD tfjs-backend-wasm
 * plus this package's training kernels, priority 200) under `BACKEND_PLUGINS` in `container`.
 * Neither tfjs nor the wasm module is loaded here; the host's `BackendRegistry` calls `init()` when
 * it selects the plugin. Call it once per container.
 *
 * @param options see {@link WasmBackendOptions}; default `threads`: every logical core,
 *   `trainingKernels: true`, the binary of the installed `@tensorflow/tfjs-backend-wasm`.
 * @returns `container`, for chaining.
 * @throws {ConfigError} on invalid options (as {@link createWasmBackend}, e.g. `threads: 0`).
 *
 * @example
 * ```ts
 * import { container, resolveBackend } from '@keypoints/core';
 * import { registerWasmBackend } from '@keypoints/backend-wasm';
 * const host = container.createChildContainer();
 * registerWasmBackend(host, { threads: 2 });
 * await resolveBackend(host, 'wasm');
 * ```
 */
export function registerWasmBackend(container: DependencyContainer, options: WasmBackendOptions = {}): DependencyContainer {
  container.register(BACKEND_PLUGINS, { useValue: createWasmBackend(options) });
  return container;
}
