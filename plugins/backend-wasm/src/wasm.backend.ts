import os from 'node:os';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { BackendInitError, ConfigError, activateTfjsBackend } from '@keypoints/core';
import type { BackendPlugin } from '@keypoints/core';
import { installTrainingKernels } from './kernels/training-kernels.js';
import { loadThreadedSimdModule, unrefWorkers, withCoresFor } from './loader/threaded-simd.loader.js';
import { setActiveNativeKernels } from './native/active.js';
import { NativeKernels } from './native/native-kernels.js';
import { checkWasmPaths, defaultWasmDir, normalizeWasmPaths, threadedSimdFile } from './wasm-files.js';
import type { WasmPaths } from './wasm-files.js';

/** tfjs backend name of the wasm backend. */
export const WASM_BACKEND_NAME = 'wasm';
/** Place in the default chain: after node-gpu (400) and node (300), before cpu (100). */
export const WASM_BACKEND_PRIORITY = 200;

/** Options of {@link createWasmBackend}. All are fixed for the process once wasm initialised. */
export interface WasmBackendOptions {
  /**
   * Threads per kernel (positive integer): the XNNPACK pool of tfjs's threaded-SIMD binary and
   * this package's own kernels. `1` runs everything on the calling thread.
   * Default: the number of logical cores (`os.availableParallelism()`).
   */
  readonly threads?: number;
  /**
   * Where `tfjs-backend-wasm-threaded-simd.wasm` is (the only binary this backend loads, also for
   * one thread): a local folder (prefix) or one path per binary. Default: the `dist/` folder of
   * `@tensorflow/tfjs-backend-wasm`, resolved from this package.
   */
  readonly wasmPaths?: WasmPaths;
  /**
   * Kernels to register for the `wasm` backend before it is activated (each with
   * `backendName: 'wasm'`); a kernel that tfjs (or this package) already has for wasm is replaced.
   */
  readonly kernels?: readonly KernelConfig[];
  /**
   * Gradients to register. tfjs keeps one gradient per kernel name for all backends,
   * so these apply to every backend of the process.
   */
  readonly gradients?: readonly GradConfig[];
  /**
   * Install this project's training kernels (default `true`): `Conv2DBackpropFilter` (missing in
   * tfjs-backend-wasm), fast `Conv2DBackpropInput`, `MaxPoolGrad` (first-max, fixes tfjs's),
   * leading-axes `Sum`/`Mean`, transposed `BatchMatMul`, buffer-sharing `Identity`/`Cast`, batch
   * normalization (`FusedBatchNorm`, per-channel `Add`/`Sub`/`Multiply`/`RealDiv`, `Tile`, and the
   * `FusedBatchNorm`/`Mean`/`Relu` gradients on wasm; `TRAINING_KERNEL_NAMES`,
   * `TRAINING_GRADIENT_NAMES`). `false` gives stock tfjs kernels (which cannot train conv layers) on
   * the threaded binary.
   */
  readonly trainingKernels?: boolean;
}

/** What the wasm backend of this process runs on (after {@link createWasmBackend}'s `init`). */
export interface WasmBackendInfo {
  /** Threads per kernel (XNNPACK pool size as tfjs reports it, and this package's kernels). */
  readonly threads: number;
  /** The binary loaded. */
  readonly binary: string;
  /** Whether this package's training kernels are registered. */
  readonly trainingKernels: boolean;
}

/** Logical cores of this machine: the default thread count. */
export function defaultThreads(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : Math.max(1, os.cpus().length);
}

/** What wasm was first initialised with in this process (tfjs cannot change it afterwards). */
let initialisedWith: { paths: string; threads: number; trainingKernels: boolean } | undefined;
let info: WasmBackendInfo | undefined;

/**
 * What the wasm backend of this process runs on, or `undefined` before a successful `init()`.
 */
export function wasmBackendInfo(): WasmBackendInfo | undefined {
  return info;
}

/**
 * Create the `wasm` backend plugin: tfjs-backend-wasm's threaded-SIMD binary (XNNPACK) started with
 * real threads under Node, plus this package's training kernels (wasm SIMD, csrc/kernels.c) so that
 * every tf.layers model of this project trains, plus any extra kernels and gradients. Registered and
 * activated by `init()` only (importing this module loads neither tfjs nor the wasm module).
 *
 * @param options see {@link WasmBackendOptions}; default `{}` (all cores, training kernels).
 * @returns a {@link BackendPlugin} named `wasm`, priority 200. Its `init()` throws
 *   {@link BackendInitError} when the binary is missing or fails to start, or when this process
 *   already initialised wasm with other options.
 * @throws {ConfigError} when `threads` is not a positive integer or a kernel is not for `wasm`.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@keypoints/core';
 * import { createWasmBackend } from '@keypoints/backend-wasm';
 * await selectBackend([createWasmBackend({ threads: 2 })], 'wasm');
 * ```
 */
export function createWasmBackend(options: WasmBackendOptions = {}): BackendPlugin {
  const { threads, kernels = [], gradients = [], trainingKernels = true } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
    throw new ConfigError(`wasm backend: threads must be a positive integer, got ${threads}`);
  }
  for (const kernel of kernels) {
    if (kernel.backendName !== WASM_BACKEND_NAME) {
      throw new ConfigError(
        `wasm backend: kernel '${kernel.kernelName}' is for backend '${kernel.backendName}', expected 'wasm'`,
      );
    }
  }
  return {
    name: WASM_BACKEND_NAME,
    priority: WASM_BACKEND_PRIORITY,
    description: 'TensorFlow.js wasm (XNNPACK, SIMD, threads) with training kernels; the default backend, no native install',
    init: () => serialised(() => initWasm(options.wasmPaths, threads ?? defaultThreads(), kernels, gradients, trainingKernels)),
  };
}

/** Inits of this process, one after the other (two concurrent first inits must not both load). */
let queue: Promise<unknown> = Promise.resolve();
function serialised(f: () => Promise<void>): Promise<void> {
  const run = queue.then(f, f);
  queue = run.catch(() => undefined);
  return run;
}

/** The `wasm` backend plugin with default options (`createWasmBackend()`). */
export const wasmBackend: BackendPlugin = createWasmBackend();

async function initWasm(
  wasmPaths: WasmPaths | undefined,
  threads: number,
  kernels: readonly KernelConfig[],
  gradients: readonly GradConfig[],
  trainingKernels: boolean,
): Promise<void> {
  const paths = wasmPaths === undefined ? defaultWasmDir() : normalizeWasmPaths(wasmPaths);
  if (wasmPaths !== undefined) checkWasmPaths(paths);
  const wasmFile = threadedSimdFile(paths) as string;

  const tf = await import('@tensorflow/tfjs');
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    throw new BackendInitError(
      'wasm',
      `cannot load @tensorflow/tfjs-backend-wasm (${(error as Error).message}); ` +
        'install it: `npm install @tensorflow/tfjs-backend-wasm@4.22.0`, or pick another backend (`--backend cpu`)',
      { cause: error },
    );
  }

  const key = JSON.stringify(paths);
  const engine = tf.engine();
  if (initialisedWith === undefined) {
    if (engine.registry[WASM_BACKEND_NAME] !== undefined) {
      throw new BackendInitError(
        'wasm',
        "tfjs's own wasm loader already started the single-threaded binary in this process " +
          "(something called tf.setBackend('wasm') before this plugin's init); initialise the backend " +
          'through createWasmBackend().init() only',
      );
    }
    const listenersBefore = snapshotListeners();
    let backend: unknown;
    let native: NativeKernels;
    try {
      const module = await loadThreadedSimdModule(wasmFile, threads);
      wasm.setThreadsCount(threads);
      backend = await withCoresFor(threads, () => new wasm.BackendWasm(module as never));
      unrefWorkers(module);
      native = await NativeKernels.create(module, threads);
    } finally {
      removeEmscriptenListeners(listenersBefore);
    }
    setActiveNativeKernels(native);
    // Replace the factory of tfjs-backend-wasm's import-time registration; the kernels it
    // registered for 'wasm' stay and bind to this module when the backend is set.
    if (WASM_BACKEND_NAME in engine.registryFactory) tf.removeBackend(WASM_BACKEND_NAME);
    tf.registerBackend(WASM_BACKEND_NAME, () => backend as never, 2);
    initialisedWith = { paths: key, threads, trainingKernels };
    info = { threads: wasm.getThreadsCount(), binary: wasmFile, trainingKernels };
  } else if (initialisedWith.paths !== key || initialisedWith.threads !== threads) {
    throw new BackendInitError(
      'wasm',
      `already initialised in this process with wasmPaths ${initialisedWith.paths} and threads ${initialisedWith.threads}; ` +
        'the wasm binaries and thread count cannot change after the first init — use one configuration per process',
    );
  }

  if (trainingKernels) installTrainingKernels(tf);
  for (const kernel of kernels) {
    const existing = tf.getKernel(kernel.kernelName, WASM_BACKEND_NAME);
    if (existing === kernel) continue;
    if (existing !== undefined) tf.unregisterKernel(kernel.kernelName, WASM_BACKEND_NAME);
    tf.registerKernel(kernel);
  }
  for (const gradient of gradients) {
    const existing = tf.getGradient(gradient.kernelName);
    if (existing === gradient) continue;
    if (existing !== undefined) tf.unregisterGradient(gradient.kernelName);
    tf.registerGradient(gradient);
  }

  await activateTfjsBackend(
    tf,
    WASM_BACKEND_NAME,
    'wasm',
    "tf.setBackend('wasm') returned false after the module started; restart the process",
  );
}

const EMSCRIPTEN_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
type ListenerSnapshot = Record<(typeof EMSCRIPTEN_EVENTS)[number], ReadonlyArray<(...args: unknown[]) => void>>;

/** `process` seen as a plain emitter (its typed overloads reject a union of event names). */
const emitter = process as unknown as {
  listeners(event: string): Array<(...args: unknown[]) => void>;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
};

function snapshotListeners(): ListenerSnapshot {
  return {
    uncaughtException: emitter.listeners('uncaughtException'),
    unhandledRejection: emitter.listeners('unhandledRejection'),
  };
}

/**
 * The Emscripten glue of tfjs-backend-wasm installs process-wide `uncaughtException` and
 * `unhandledRejection` listeners that rethrow (turning every unhandled rejection in the
 * host into a crash). Remove the ones it added during this init; nothing in the backend
 * depends on them.
 */
function removeEmscriptenListeners(before: ListenerSnapshot): void {
  for (const event of EMSCRIPTEN_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (before[event].includes(listener)) continue;
      const source = String(listener);
      if (/ExitStatus|throw reason/.test(source)) {
        emitter.removeListener(event, listener);
      }
    }
  }
}
