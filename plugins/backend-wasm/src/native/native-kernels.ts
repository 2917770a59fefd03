import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { TfjsWasmModule } from '../loader/threaded-simd.loader.js';
import { webAssembly, type WasmModule } from './web-assembly.js';

/** Entry points of `kernels.wasm` (csrc/kernels.c); each is `(args: i32*, tid, nthreads) => void`. */
export const NATIVE_ENTRIES = [
  'conv2d_filter_grad',
  'sum_blocks',
  'channel_sums',
  'max_pool_grad',
  'spread_pad',
  'flip_filter',
  'relu_grad',
  'gemm',
  'binary_act',
  'gather_rows',
  'max_pool',
  'conv2d_c1',
  'conv2d_fwd',
  'tile4',
  'batch_norm',
  'conv2d_dot',
] as const;
export type NativeEntry = (typeof NATIVE_ENTRIES)[number];

type Entry = (args: number, tid: number, nthreads: number) => void;

// Control block (int32 slots) in tfjs's shared memory.
const SEQ = 0; // bumped by the main thread for each job (wakes the workers)
const NEXT = 1; // next share index to claim (1 … threads − 1; share 0 is the caller's)
const ENTRY = 2; // index into NATIVE_ENTRIES; -1 stops the workers
const ARGS = 3; // pointer to the int32 arguments
const FAILED = 4; // 1 when a share run by a worker threw
const DONE = 5; // shares 1 … threads − 1 finished
const CONTROL_INTS = 8;
/** How long the calling thread waits for a share that a worker claimed but has not finished. */
const WORKER_TIMEOUT_MS = 120_000;
const MAX_ARGS = 32;

// Runs in each worker thread: instantiate the kernels on the shared memory, then, whenever a job
// is posted, claim shares of it until none is left. Shares are claimed with an atomic counter, so
// a worker that wakes late (descheduled on a loaded machine) never holds the caller up: the caller
// runs every share nobody has claimed yet. Plain JS (eval'd), so no loader is needed in the worker.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control, nthreads, entries } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
const fns = entries.map((name) => exports[name]);
const i32 = new Int32Array(memory.buffer, control, ${CONTROL_INTS});
let seen = Atomics.load(i32, ${SEQ});
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(i32, ${SEQ}, seen);
  seen = Atomics.load(i32, ${SEQ});
  if (Atomics.load(i32, ${ENTRY}) < 0) break;
  for (;;) {
    const share = Atomics.add(i32, ${NEXT}, 1);
    if (share >= nthreads) break;
    // ENTRY and ARGS are written before NEXT is reset, so a valid claim sees its own job's.
    const entry = Atomics.load(i32, ${ENTRY});
    if (entry < 0) break;
    try {
      fns[entry](Atomics.load(i32, ${ARGS}), share, nthreads);
    } catch (error) {
      Atomics.store(i32, ${FAILED}, 1);
    }
    Atomics.add(i32, ${DONE}, 1);
    Atomics.notify(i32, ${DONE});
  }
}
`;

let compiled: WasmModule | undefined;

function kernelsModule(): WasmModule {
  compiled ??= new webAssembly.Module(readFileSync(new URL('../../native/kernels.wasm', import.meta.url)) /* native/ sits two folders above both src/native/ and dist/native/ */);
  return compiled;
}

/**
 * This package's wasm SIMD kernels (csrc/kernels.c), instantiated on tfjs-backend-wasm's own
 * shared memory so that they read and write tensors in place, with a pool of `threads − 1`
 * worker threads (the calling thread runs share 0). Calls are synchronous, like tfjs kernels.
 */
export class NativeKernels {
  private readonly fns: Entry[];
  private broken: string | undefined;
  /** Shares the calling thread ran because no worker had claimed them yet (diagnostics). */
  sharesRunByCaller = 0;
  private readonly control: number;
  private readonly args: number;

  private constructor(
    private readonly module: TfjsWasmModule,
    readonly threads: number,
    private readonly workers: Worker[],
    control: number,
  ) {
    const { exports } = new webAssembly.Instance(kernelsModule(), { env: { memory: module.wasmMemory } });
    this.fns = NATIVE_ENTRIES.map((name) => exports[name] as Entry);
    this.control = control;
    this.args = control + CONTROL_INTS * 4;
  }

  /**
   * Instantiate the kernels on `module`'s memory and start `threads − 1` workers.
   * @param module tfjs's threaded-SIMD Emscripten module (its memory must be shared).
   * @param threads total threads per kernel call, ≥ 1.
   */
  static async create(module: TfjsWasmModule, threads: number): Promise<NativeKernels> {
    const memory = module.wasmMemory;
    const control = module._malloc((CONTROL_INTS + MAX_ARGS) * 4);
    new Int32Array(memory.buffer, control, CONTROL_INTS + MAX_ARGS).fill(0);
    const workers: Worker[] = [];
    const ready: Array<Promise<void>> = [];
    for (let tid = 1; tid < threads; tid++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: kernelsModule(), memory, control, nthreads: threads, entries: [...NATIVE_ENTRIES] },
      });
      ready.push(
        new Promise((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject);
        }),
      );
      workers.push(worker);
    }
    await Promise.all(ready);
    const kernels = new NativeKernels(module, threads, workers, control);
    for (const [i, worker] of workers.entries()) {
      // Idle workers wait on an atomic: they must not keep the process alive.
      worker.unref();
      // A worker that dies is reported on the next call instead of being waited for.
      worker.on('error', (error) => kernels.markBroken(`worker thread ${i + 1} failed: ${String(error)}`));
      worker.on('exit', (code) => kernels.markBroken(`worker thread ${i + 1} exited (code ${code})`));
    }
    return kernels;
  }

  /** Allocate `bytes` in tfjs's heap (for scratch); free with {@link free}. */
  malloc(bytes: number): number {
    return this.module._malloc(bytes) >>> 0;
  }

  free(ptr: number): void {
    this.module._free(ptr);
  }

  /** An Int32Array view of `count` values at byte offset `ptr` of the heap (valid until it grows). */
  int32View(ptr: number, count: number): Int32Array {
    return new Int32Array(this.module.wasmMemory.buffer, ptr, count);
  }

  /** A Float32Array view of `count` values at byte offset `ptr` of the heap (valid until it grows). */
  float32View(ptr: number, count: number): Float32Array {
    return new Float32Array(this.module.wasmMemory.buffer, ptr, count);
  }

  /** A Float64Array view of `count` values at byte offset `ptr` (8-byte aligned) of the heap (valid until it grows). */
  float64View(ptr: number, count: number): Float64Array {
    return new Float64Array(this.module.wasmMemory.buffer, ptr, count);
  }

  /** Copy `bytes` bytes from heap offset `src` to `dst` (memmove, on the calling thread). */
  copyBytes(dst: number, src: number, bytes: number): void {
    new Uint8Array(this.module.wasmMemory.buffer).copyWithin(dst, src, src + bytes);
  }

  /** Set `count` float32 values at byte offset `ptr` to 0 (on the calling thread). */
  zero(ptr: number, count: number): void {
    new Float32Array(this.module.wasmMemory.buffer, ptr, count).fill(0);
  }

  /**
   * Run `entry` on all threads with int32 `args` (pointers and sizes) and wait for all of them.
   * The calling thread runs share 0, then every share no worker has claimed yet, so a worker that is
   * slow to wake (a loaded machine) costs speed, never progress.
   * @throws {Error} when a share trapped (out-of-bounds access: a bug in the caller's sizes), a
   *   worker thread died, or a worker did not finish a share it claimed within 120 s (the pool is
   *   then unusable).
   */
  run(entry: NativeEntry, args: readonly number[]): void {
    if (this.broken !== undefined) throw new Error(`@keypoints/backend-wasm: ${this.broken}; restart the process`);
    const buffer = this.module.wasmMemory.buffer;
    const i32 = new Int32Array(buffer, this.control, CONTROL_INTS);
    new Int32Array(buffer, this.args, MAX_ARGS).set(args);
    const index = NATIVE_ENTRIES.indexOf(entry);
    const n = this.threads;
    if (n > 1) {
      Atomics.store(i32, FAILED, 0);
      Atomics.store(i32, DONE, 0);
      Atomics.store(i32, ENTRY, index);
      Atomics.store(i32, ARGS, this.args);
      Atomics.store(i32, NEXT, 1); // publish: shares 1 … n − 1 can be claimed from here on
      Atomics.add(i32, SEQ, 1);
      Atomics.notify(i32, SEQ);
    }
    let callerShares = 0;
    try {
      this.fns[index](this.args, 0, n);
      if (n > 1) {
        for (let share = Atomics.add(i32, NEXT, 1); share < n; share = Atomics.add(i32, NEXT, 1)) {
          this.fns[index](this.args, share, n);
          callerShares++;
        }
      }
    } finally {
      if (n > 1) this.waitForWorkers(i32, entry, n - 1 - callerShares);
      this.sharesRunByCaller += callerShares;
    }
    if (n > 1 && Atomics.load(i32, FAILED) !== 0) {
      throw new Error(`native kernel ${entry} failed in a worker thread (args ${args.join(', ')})`);
    }
  }

  /** Mark the pool unusable (a worker died); the next {@link run} throws with `reason`. */
  markBroken(reason: string): void {
    this.broken ??= reason;
  }

  /**
   * Wait until the workers finished the `claimed` shares they took: a short spin (shares usually
   * end together), then futex waits. A worker that died mid-share would leave the caller blocked
   * forever; after {@link WORKER_TIMEOUT_MS} this throws instead, and the pool stays unusable.
   */
  private waitForWorkers(i32: Int32Array, entry: NativeEntry, claimed: number): void {
    let done: number;
    let spins = 0;
    let started = 0;
    while ((done = Atomics.load(i32, DONE)) < claimed) {
      if (++spins < 2000) continue;
      if (this.broken !== undefined) throw new Error(`@keypoints/backend-wasm: ${this.broken}; restart the process`);
      if (started === 0) started = performance.now();
      else if (performance.now() - started > WORKER_TIMEOUT_MS) {
        this.broken = `a worker thread did not finish its share of ${entry} within ${WORKER_TIMEOUT_MS / 1000} s`;
        throw new Error(`@keypoints/backend-wasm: ${this.broken}; restart the process`);
      }
      Atomics.wait(i32, DONE, done, 50);
    }
  }

  /** Stop the workers (the memory stays with tfjs). */
  dispose(): void {
    const i32 = new Int32Array(this.module.wasmMemory.buffer, this.control, CONTROL_INTS);
    Atomics.store(i32, ENTRY, -1);
    Atomics.add(i32, SEQ, 1);
    Atomics.notify(i32, SEQ);
    for (const worker of this.workers) void worker.terminate();
  }
}
