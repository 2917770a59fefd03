import { slice_util, util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/**
 * Wrap the wasm `Slice` so that contiguous slices (e.g. a batch of rows along the first axis, as
 * `model.predict` and `model.fit` cut their inputs) of float32/int32 tensors are one copy inside
 * the wasm heap. tfjs-backend-wasm's `Slice` first reads the **whole** input out of the heap
 * (`readSync` copies it) and then copies the slice: cutting 128 images out of 512 copies all 512
 * (19 MB), once per batch. Anything else (strided slices, other dtypes) goes to `stock`.
 *
 * @param stock the wasm backend's registered `Slice` kernel function.
 */
export function makeSlice(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x } = args.inputs as { x: TensorInfo };
    const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return stock(args);
    const [begin_, size_] = slice_util.parseSliceParams(x as never, begin, size);
    if (!slice_util.isSliceContinous(x.shape, begin_, size_)) return stock(args);
    const flatOffset = slice_util.computeFlatOffset(begin_, util.computeStrides(x.shape));
    const out = backend.makeOutput(size_, x.dtype);
    const count = util.sizeFromShape(size_);
    if (count > 0) activeNativeKernels().copyBytes(heapOffset(backend, out), heapOffset(backend, x) + 4 * flatOffset, 4 * count);
    return out;
  };
}

/** Kernel config of the in-heap `Slice` (see {@link makeSlice}). */
export function sliceConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeSlice(stock.kernelFunc) };
}
