import { util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/**
 * Wrap the wasm `Sum` so that a float32 sum over leading axes — every bias gradient: `[N, H, W, C]`
 * over `[0, 1, 2]`, `[B, units]` over `[0]` — runs as column sums in wasm SIMD over all threads
 * (float64 accumulation of 64-row float32 blocks). The stock kernel transposes the whole tensor
 * first (conv1 of net2: 0.4 s per step). Other reductions go to the stock kernel.
 *
 * @param stock the wasm backend's registered `Sum` kernel function.
 */
export function makeSum(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x } = inputs as { x: TensorInfo };
    const { axis, keepDims } = attrs as { axis: number | number[]; keepDims?: boolean };
    const rank = x.shape.length;
    const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (!leading || x.dtype !== 'float32') return stock(args);
    const P = util.sizeFromShape(x.shape.slice(0, axes.length));
    const rest = x.shape.slice(axes.length);
    const C = util.sizeFromShape(rest);
    const shape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
    const out = backend.makeOutput(shape, 'float32');
    if (C === 0) return out;
    if (P === 0) {
      activeNativeKernels().zero(heapOffset(backend, out), C);
      return out;
    }
    activeNativeKernels().run('column_sums', [heapOffset(backend, x), heapOffset(backend, out), P, C]);
    return out;
  };
}

/** Kernel config of the leading-axes `Sum` (see {@link makeSum}). */
export function sumConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeSum(stock.kernelFunc) };
}
