import type { BackendPlugin } from '@keypoints/core';
import { TFJS_NATIVE_BACKEND, importNativePackage, initNativeBackend } from '@keypoints/core/node';
import type { NativeFlavour, NativeModuleLoader } from '@keypoints/core';

/** Plugin (and tfjs backend) name of tfjs-node; `selectBackend` also accepts the alias `node`. */
export const NODE_BACKEND_NAME = TFJS_NATIVE_BACKEND;
/** Place in the default chain: after node-gpu (400), before wasm (200). */
export const NODE_BACKEND_PRIORITY = 300;

/** Options of {@link createNodeBackend}. */
export interface NodeBackendOptions {
  /**
   * How to load `@tensorflow/tfjs-node`; default: resolve it from this package and `import()` it.
   * Replace only in tests.
   */
  readonly load?: NativeModuleLoader;
}

const FLAVOUR: NativeFlavour = {
  plugin: NODE_BACKEND_NAME,
  packageName: '@tensorflow/tfjs-node',
  requirements: 'prebuilt for Linux x64, macOS and Windows x64; elsewhere it builds from source (python, a C++ toolchain)',
  requireGpu: false,
};

/**
 * Create the optional `tensorflow` backend plugin (`@tensorflow/tfjs-node`: libtensorflow on
 * the CPU). The package is not a dependency: install it yourself
 * (`npm install @tensorflow/tfjs-node@4.22.0`). It is only imported by `init()`, so this plugin
 * installs and imports without it.
 *
 * Never loaded beside `@tensorflow/tfjs-node-gpu`: `init()` fails when that one is loaded.
 *
 * @returns a {@link BackendPlugin} named `tensorflow` (alias `node`), priority 300.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@keypoints/core';
 * import { createNodeBackend } from '@keypoints/backend-node';
 * await selectBackend([createNodeBackend()], 'node'); // throws BackendInitError with the install command if missing
 * ```
 */
export function createNodeBackend(options: NodeBackendOptions = {}): BackendPlugin {
  const load = options.load ?? importNativePackage;
  return {
    name: NODE_BACKEND_NAME,
    priority: NODE_BACKEND_PRIORITY,
    description: 'TensorFlow.js on libtensorflow (CPU) via @tensorflow/tfjs-node; optional, install it yourself',
    init: () => initNativeBackend(FLAVOUR, load),
  };
}

/** The `tensorflow` (tfjs-node) plugin with default options. */
export const nodeBackend: BackendPlugin = createNodeBackend();
