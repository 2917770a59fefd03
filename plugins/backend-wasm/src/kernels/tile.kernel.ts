import { util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/**
 * `shape` tiled `reps` times with its axes merged where that changes nothing: axes of one element
 * that are not repeated disappear, neighbouring axes that are both not repeated or both of one
 * element (a broadcast) become one. `[1, 1, 1, C]` × `[N, H, W, 1]` is `[1, C]` × `[N·H·W, 1]`.
 * Returns `[dims, reps]` of the same length (possibly empty).
 */
export function mergeTileAxes(shape: readonly number[], reps: readonly number[]): [number[], number[]] {
  const dims: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    const r = reps[i];
    if (d === 1 && r === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && times[last] === 1 && r === 1) dims[last] *= d;
    else if (last >= 0 && dims[last] === 1 && d === 1) times[last] *= r;
    else {
      dims.push(d);
      times.push(r);
    }
  }
  return [dims, times];
}

/**
 * Wrap the wasm `Tile` so that tiles of 4-byte values (float32, int32) whose merged axes (see
 * {@link mergeTileAxes}) number at most 4 are row copies on all threads (csrc's `tile4`): every
 * broadcast (`[1, …, 1, C]` to `[N, …, C]`, `[N, 1]` to `[N, W]`) and every repeat of whole
 * blocks. tfjs-backend-wasm's Tile computes each element's source index separately: the stock
 * batch-norm gradient's `tile(rsqrt(var) [1, 1, 1, 16], [64, 96, 96, 1])` took 0.9 s. `broadcastTo`
 * runs this kernel too. Anything else goes to `stock`.
 *
 * @param stock the wasm backend's registered `Tile` kernel function.
 */
export function makeTile(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as { reps: number[] };
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || reps.length !== x.shape.length) return stock(args);
    const [dims, times] = mergeTileAxes(x.shape, reps);
    if (dims.length > 4) return stock(args);
    const shape = x.shape.map((d, i) => d * reps[i]);
    const out = backend.makeOutput(shape, x.dtype);
    if (util.sizeFromShape(shape) === 0) return out;
    while (dims.length < 4) {
      dims.unshift(1);
      times.unshift(1);
    }
    activeNativeKernels().run('tile4', [heapOffset(backend, x), heapOffset(backend, out), ...dims, ...times]);
    return out;
  };
}

/** Kernel config of the native `Tile` (see {@link makeTile}). */
export function tileConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeTile(stock.kernelFunc) };
}
