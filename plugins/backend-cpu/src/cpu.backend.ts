import { BackendInitError, activateTfjsBackend } from '@keypoints/core';
import type { BackendPlugin } from '@keypoints/core';

/** tfjs backend name of the pure-JS backend. */
export const CPU_BACKEND_NAME = 'cpu';
/** Last in the default chain (node-gpu 400 → node 300 → wasm 200 → cpu 100). */
export const CPU_BACKEND_PRIORITY = 100;

/**
 * Create the `cpu` backend plugin: tfjs's pure-JavaScript backend (bundled with
 * `@tensorflow/tfjs`). Slow, but has every kernel and gradient; the reference for tests.
 * `init()` activates it; importing this module loads nothing.
 *
 * @returns a {@link BackendPlugin} named `cpu`, priority 100.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@keypoints/core';
 * import { createCpuBackend } from '@keypoints/backend-cpu';
 * await selectBackend([createCpuBackend()], 'cpu');
 * ```
 */
export function createCpuBackend(): BackendPlugin {
  return {
    name: CPU_BACKEND_NAME,
    priority: CPU_BACKEND_PRIORITY,
    description: 'TensorFlow.js pure-JS cpu backend: slow, complete; reference for tests',
    init: initCpu,
  };
}

/** The `cpu` plugin (`createCpuBackend()`). */
export const cpuBackend: BackendPlugin = createCpuBackend();

async function initCpu(): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  if (tf.findBackendFactory(CPU_BACKEND_NAME) == null) {
    // @tensorflow/tfjs registers it on import; absent only if someone removed it.
    throw new BackendInitError(
      CPU_BACKEND_NAME,
      "the 'cpu' backend is not registered with tfjs (was it removed with tf.removeBackend?); " +
        'reinstall @tensorflow/tfjs (`npm install @tensorflow/tfjs@4.22.0`)',
    );
  }
  await activateTfjsBackend(
    tf,
    CPU_BACKEND_NAME,
    CPU_BACKEND_NAME,
    "tf.setBackend('cpu') returned false (tfjs logged the reason above); reinstall @tensorflow/tfjs (`npm install @tensorflow/tfjs@4.22.0`)",
  );
}
