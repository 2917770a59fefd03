import type { BackendPlugin } from '@keypoints/core';
import { importNativePackage, initNativeBackend } from '@keypoints/core/node';
import type { NativeFlavour, NativeModuleLoader } from '@keypoints/core';

/**
 * Plugin name of tfjs-node-gpu. (The tfjs backend it activates is named `tensorflow`, like
 * tfjs-node's; `tf.getBackend()` reports that.)
 */
export const NODE_GPU_BACKEND_NAME = 'node-gpu';
/** Place in the default chain: first (node-gpu 400 → node 300 → wasm 200 → cpu 100). */
export const NODE_GPU_BACKEND_PRIORITY = 400;

/** Options of {@link createNodeGpuBackend}. */
export interface NodeGpuBackendOptions {
  /**
   * Fail when TensorFlow finds no GPU, instead of running on the CPU as tfjs-node-gpu does
   * silently. Default `true`.
   */
  readonly requireGpu?: boolean;
  /**
   * How to load `@tensorflow/tfjs-node-gpu`; default: resolve it from this package and
   * `import()` it. Replace only in tests.
   */
  readonly load?: NativeModuleLoader;
}

/**
 * Create the optional `node-gpu` backend plugin (`@tensorflow/tfjs-node-gpu`: libtensorflow
 * with CUDA, Linux x64 and Windows x64). The package is not a dependency: install it yourself
 * (`npm install @tensorflow/tfjs-node-gpu@4.22.0`; needs CUDA 11.2 and cuDNN 8.1). It is only
 * imported by `init()`, so this plugin installs and imports without it.
 *
 * Never loaded beside `@tensorflow/tfjs-node`: `init()` fails when that one is loaded.
 *
 * @returns a {@link BackendPlugin} named `node-gpu`, priority 400.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@keypoints/core';
 * import { createNodeGpuBackend } from '@keypoints/backend-node-gpu';
 * await selectBackend([createNodeGpuBackend()], 'node-gpu'); // throws BackendInitError with the remedy if unusable
 * ```
 */
export function createNodeGpuBackend(options: NodeGpuBackendOptions = {}): BackendPlugin {
  const load = options.load ?? importNativePackage;
  const flavour: NativeFlavour = {
    plugin: NODE_GPU_BACKEND_NAME,
    packageName: '@tensorflow/tfjs-node-gpu',
    requirements:
      'it needs an NVIDIA driver > 450, CUDA 11.2 (11.x) and cuDNN 8.1 (8.x) installed, Linux or Windows x64',
    requireGpu: options.requireGpu ?? true,
  };
  return {
    name: NODE_GPU_BACKEND_NAME,
    priority: NODE_GPU_BACKEND_PRIORITY,
    description: 'TensorFlow.js on libtensorflow with CUDA via @tensorflow/tfjs-node-gpu; optional, install it yourself',
    init: () => initNativeBackend(flavour, load),
  };
}

/** The `node-gpu` plugin with default options. */
export const nodeGpuBackend: BackendPlugin = createNodeGpuBackend();
