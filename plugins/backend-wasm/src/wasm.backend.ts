import { wrapTransposedBatchMatMul } from './kernels/batch-mat-mul.kernel.js';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { BackendInitError, ConfigError } from '@keypoints/core';
import type { BackendPlugin } from '@keypoints/core';
import { checkWasmPaths, defaultWasmDir, normalizeWasmPaths } from './wasm-files.js';
import type { WasmPaths } from './wasm-files.js';

/** tfjs backend name of the wasm backend. */
export const WASM_BACKEND_NAME = 'wasm';
/** Place in the default chain: after node-gpu (400) and node (300), before cpu (100). */
export const WASM_BACKEND_PRIORITY = 200;

/** Options of {@link createWasmBackend}. All are fixed for the process once wasm initialised. */
export interface WasmBackendOptions {
  /**
   * XNNPACK thread-pool size (positive integer). tfjs only uses it with the threaded-SIMD
   * binary, which it never picks under Node (it reports no multithread support there), so
   * in Node this is accepted and has no effect. Default: tfjs's choice (logical cores).
   */
  readonly threads?: number;
  /**
   * Where the `.wasm` binaries are: a folder (prefix) or one path per binary. Default: the
   * `dist/` folder of `@tensorflow/tfjs-backend-wasm`, resolved from this package.
   */
  readonly wasmPaths?: WasmPaths;
  /**
   * Kernels to register for the `wasm` backend before it is activated (each with
   * `backendName: 'wasm'`); a kernel that tfjs already has for wasm is replaced.
   */
  readonly kernels?: readonly KernelConfig[];
  /**
   * Gradients to register. tfjs keeps one gradient per kernel name for all backends,
   * so these apply to every backend of the process.
   */
  readonly gradients?: readonly GradConfig[];
  /**
   * Install this project's faster training kernels (default `true`): transposed `BatchMatMul`
   * through an explicit transpose (dense-layer gradients ~4× faster). `false` gives stock tfjs.
   */
  readonly trainingKernels?: boolean;
}

/** Replace stock wasm kernels that are slow on training paths (idempotent). */
function installTrainingKernels(tf: typeof import('@tensorflow/tfjs')): void {
  const stock = tf.getKernel('BatchMatMul', WASM_BACKEND_NAME);
  const transpose = tf.getKernel('Transpose', WASM_BACKEND_NAME);
  if (!stock || !transpose) return;
  const wrapped = wrapTransposedBatchMatMul(stock, transpose.kernelFunc);
  if (wrapped === stock) return;
  tf.unregisterKernel('BatchMatMul', WASM_BACKEND_NAME);
  tf.registerKernel(wrapped);
}

/** What wasm was first initialised with in this process (tfjs cannot change it afterwards). */
let initialisedWith: { paths: string; threads: number | undefined } | undefined;

/**
 * Create the `wasm` backend plugin: stock `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD), plus
 * any extra kernels and gradients, registered and activated by `init()` only (importing this
 * module loads neither tfjs nor the wasm module).
 *
 * @param options see {@link WasmBackendOptions}; default `{}`.
 * @returns a {@link BackendPlugin} named `wasm`, priority 200.
 * @throws {ConfigError} when `threads` is not a positive integer or a kernel is not for `wasm`.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@keypoints/core';
 * import { createWasmBackend } from '@keypoints/backend-wasm';
 * await selectBackend([createWasmBackend()], 'wasm');
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
    description: 'TensorFlow.js wasm (XNNPACK, SIMD); the default backend, no native install',
    init: () => initWasm(options.wasmPaths, threads, kernels, gradients, trainingKernels),
  };
}

/** The `wasm` backend plugin with default options (`createWasmBackend()`). */
export const wasmBackend: BackendPlugin = createWasmBackend();

async function initWasm(
  wasmPaths: WasmPaths | undefined,
  threads: number | undefined,
  kernels: readonly KernelConfig[],
  gradients: readonly GradConfig[],
  trainingKernels: boolean,
): Promise<void> {
  const paths = wasmPaths === undefined ? defaultWasmDir() : normalizeWasmPaths(wasmPaths);
  if (wasmPaths !== undefined) checkWasmPaths(paths);

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
  if (engine.registry[WASM_BACKEND_NAME] === undefined) {
    try {
      wasm.setWasmPaths(paths as Parameters<typeof wasm.setWasmPaths>[0]);
    } catch (error) {
      // tfjs-backend-wasm refuses new paths once an initialisation has aborted.
      throw new BackendInitError(
        'wasm',
        `an earlier initialisation of the wasm module failed in this process and tfjs cannot retry it (${(error as Error).message}); ` +
          'restart the process, or pick another backend (`--backend cpu`)',
        { cause: error },
      );
    }
    if (threads !== undefined) wasm.setThreadsCount(threads);
    initialisedWith = { paths: key, threads };
  } else if (
    initialisedWith !== undefined &&
    (initialisedWith.paths !== key || (threads !== undefined && initialisedWith.threads !== threads))
  ) {
    throw new BackendInitError(
      'wasm',
      `already initialised in this process with wasmPaths ${initialisedWith.paths} and threads ${initialisedWith.threads ?? 'default'}; ` +
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

  const messages: string[] = [];
  const listenersBefore = snapshotListeners();
  const restoreConsole = captureConsole(messages);
  let ok: boolean;
  try {
    ok = await tf.setBackend(WASM_BACKEND_NAME);
  } catch (error) {
    throw new BackendInitError(
      'wasm',
      `tf.setBackend('wasm') threw: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    restoreConsole();
    removeEmscriptenListeners(listenersBefore);
  }
  if (!ok) {
    const reason = messages.find((m) => /Aborted\(|ENOENT|CompileError|LinkError/.test(m)) ?? messages[0];
    throw new BackendInitError(
      'wasm',
      `tf.setBackend('wasm') returned false: the wasm module failed to initialise` +
        (reason !== undefined ? ` (${reason.split('\n')[0]})` : '') +
        `; check that the .wasm files at ${typeof paths === 'string' ? paths : JSON.stringify(paths)} belong to ` +
        '@tensorflow/tfjs-backend-wasm 4.22.0 (reinstall it: `npm install @tensorflow/tfjs-backend-wasm@4.22.0`), ' +
        'or pick another backend (`--backend cpu`)',
    );
  }
  await tf.ready();
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

/** Record console.warn/error lines (still printing them) until the returned function is called. */
function captureConsole(into: string[]): () => void {
  const { warn, error } = console;
  console.warn = (...args: unknown[]) => {
    into.push(args.map(String).join(' '));
    warn.apply(console, args);
  };
  console.error = (...args: unknown[]) => {
    into.push(args.map(String).join(' '));
    error.apply(console, args);
  };
  return () => {
    console.warn = warn;
    console.error = error;
  };
}
