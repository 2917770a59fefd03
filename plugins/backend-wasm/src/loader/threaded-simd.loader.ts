import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { BackendInitError } from '@keypoints/core';
import type { WasmMemory } from '../native/web-assembly.js';

/** The Emscripten module of tfjs-backend-wasm, as `BackendWasm` expects it (`.tfjs` bridge added). */
export interface TfjsWasmModule {
  readonly wasmMemory: WasmMemory;
  readonly HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  PThread?: { unusedWorkers: Array<{ unref?: () => void; terminate?: () => unknown }>; runningWorkers: unknown[] };
  tfjs?: Record<string, (...args: number[]) => number>;
}

/** `wasm-out/` of @tensorflow/tfjs-backend-wasm: the Emscripten glue and the pthread worker script. */
export function wasmOutDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'));
  } catch (error) {
    throw new BackendInitError(
      'wasm',
      `cannot find the Emscripten glue of @tensorflow/tfjs-backend-wasm (wasm-out/tfjs-backend-wasm-threaded-simd.js: ${(error as Error).message.split('\n')[0]}); ` +
        'reinstall it (`npm install @tensorflow/tfjs-backend-wasm@4.22.0`), or pick another backend (`--backend cpu`)',
      { cause: error },
    );
  }
}

/**
 * Run `f` while `os.cpus()` reports at least `count` entries.
 *
 * tfjs-backend-wasm's `backend.cc` sizes the XNNPACK pool as `min(threads, logical cores / 2)`
 * (it assumes hyper-threading), so on a 2-core machine it would never use more than 1 thread.
 */
async function withReportedCpus<T>(count: number, f: () => T | Promise<T>): Promise<T> {
  const real = os.cpus;
  const cpus = real();
  if (cpus.length >= count) return f();
  os.cpus = () => Array.from({ length: count }, (_, i) => cpus[i % Math.max(1, cpus.length)]);
  try {
    return await f();
  } finally {
    os.cpus = real;
  }
}

let workerScript: string | undefined;

/**
 * Load the Emscripten glue (CommonJS) with its pthread pool sized for `poolSize` workers. The
 * stock glue starts 8 workers up front (each a Node isolate with its own instance of the module;
 * ~100 MB of RSS for the 7 that a 2-thread pool leaves idle), of which XNNPACK uses
 * `threads − 1`. When tfjs changes the glue and the pattern is not found, the stock size stays.
 */
function loadGlue(glue: string, poolSize: number): (config: object) => Promise<TfjsWasmModule> {
  const source = readFileSync(glue, 'utf8').replace('var pthreadPoolSize=8;', `var pthreadPoolSize=${poolSize};`);
  const module = { exports: {} as unknown };
  const wrapper = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: glue,
  }) as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void;
  wrapper(module.exports, createRequire(glue), module, glue, dirname(glue));
  return module.exports as (config: object) => Promise<TfjsWasmModule>;
}

/** Write tfjs's pthread worker script to a real file (Node's worker_threads cannot load Blob URLs). */
function pthreadWorkerFile(outDir: string): string {
  if (workerScript !== undefined && existsSync(workerScript)) return workerScript;
  const require = createRequire(import.meta.url);
  const { wasmWorkerContents } = require(join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  const dir = mkdtempSync(join(os.tmpdir(), 'keypoints-wasm-'));
  const file = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  // As tfjs's own loader does: the exported string holds raw newlines inside string literals.
  writeFileSync(file, wasmWorkerContents.replace(/\n/g, '\\n'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  workerScript = file;
  return file;
}

/**
 * Instantiate tfjs's threaded-SIMD Emscripten module under Node with real file paths.
 *
 * tfjs-backend-wasm 4.22 reports no multithread support under Node (and its loader hands the
 * worker script to Emscripten as a Blob URL, which `worker_threads` cannot load), so it only
 * ever runs single-threaded there. This loader starts the threaded binary itself.
 *
 * @param wasmFile path of `tfjs-backend-wasm-threaded-simd.wasm`.
 * @param threads XNNPACK pool size the backend will ask for (positive integer).
 * @throws {BackendInitError} when the module fails to compile or initialise.
 */
export async function loadThreadedSimdModule(wasmFile: string, threads: number): Promise<TfjsWasmModule> {
  const outDir = wasmOutDir();
  const glue = join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  const factory = loadGlue(glue, Math.max(1, threads - 1));
  const worker = pthreadWorkerFile(outDir);
  let abortReason: string | undefined;
  // Emscripten turns this object into the module (and starts its pthread workers on it).
  const config = {
    locateFile: (path: string) => (path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? wasmFile : join(outDir, path)),
    mainScriptUrlOrBlob: glue,
    onAbort: (reason: unknown) => {
      abortReason = String(reason);
    },
    print: () => {},
    printErr: () => {},
  } as Partial<TfjsWasmModule> & Record<string, unknown>;
  const module = await withReportedCpus(2 * threads, () => factory(config)).catch((error: unknown) => {
    try {
      (config as { PThread?: { terminateAllThreads(): void } }).PThread?.terminateAllThreads();
    } catch {
      // the workers go with the process
    }
    throw new BackendInitError(
      'wasm',
      `the threaded-SIMD wasm module failed to initialise (${abortReason ?? (error as Error)?.message ?? String(error)}); ` +
        `check that ${wasmFile} belongs to @tensorflow/tfjs-backend-wasm 4.22.0 ` +
        '(reinstall it: `npm install @tensorflow/tfjs-backend-wasm@4.22.0`), or pick another backend (`--backend cpu`)',
      { cause: error },
    );
  });
  unrefWorkers(module);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** Run `f` (the `BackendWasm` constructor, which creates the XNNPACK pool) with enough reported cores. */
export function withCoresFor<T>(threads: number, f: () => T): Promise<T> {
  return withReportedCpus(2 * threads, f);
}

/**
 * Emscripten unrefs idle pthread workers, but not running ones (XNNPACK's pool threads never
 * return): unref them all so that they do not keep the process alive.
 */
export function unrefWorkers(module: TfjsWasmModule): void {
  const pthread = module.PThread;
  if (pthread === undefined) return;
  for (const worker of [...pthread.unusedWorkers, ...(pthread.runningWorkers as Array<{ unref?: () => void }>)]) {
    worker.unref?.();
  }
}
