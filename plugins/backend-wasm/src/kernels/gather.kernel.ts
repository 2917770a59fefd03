import { util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/**
 * Wrap the wasm `GatherV2` so that gathers of whole rows (axis 0, no batch dims, 4-byte dtypes,
 * indices in range) copy rows on all threads. `model.fit` slices every batch out of its data with
 * this kernel; tfjs-backend-wasm's element-by-element loop takes ~50 ms for a batch of 128
 * 96×96 images (net1's whole training step is ~20 ms). Anything else goes to `stock` (which also
 * reports out-of-range indices).
 *
 * @param stock the wasm backend's registered `GatherV2` kernel function.
 */
export function makeGather(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number | number[]; batchDims?: number };
    const ax = util.parseAxisParam(axis, x.shape)[0];
    if (ax !== 0 || (batchDims ?? 0) !== 0 || x.dtype === 'bool' || x.dtype === 'string' || indices.dtype !== 'int32' || x.shape.length === 0) {
      return stock(args);
    }
    const count = util.sizeFromShape(indices.shape);
    const row = util.sizeFromShape(x.shape.slice(1));
    const native = activeNativeKernels();
    const idx = native.int32View(heapOffset(backend, indices), count);
    const rows = x.shape[0];
    for (let i = 0; i < count; i++) if (!(idx[i] >= 0 && idx[i] < rows)) return stock(args);
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    if (count > 0 && row > 0) {
      native.run('gather_rows', [heapOffset(backend, x), heapOffset(backend, indices), heapOffset(backend, out), count, row]);
    }
    return out;
  };
}

/** Kernel config of the row-copying `GatherV2` (see {@link makeGather}). */
export function gatherConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeGather(stock.kernelFunc) };
}
