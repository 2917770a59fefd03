import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { poolGeometry, type PoolAttrs } from './max-pool-grad.kernel.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/**
 * Wrap the wasm `MaxPool` so that float32 NHWC pooling runs as this package's wasm SIMD kernel on
 * all threads (16 channels per step, threads split the output rows). The stock kernel (XNNPACK)
 * takes ~8 % of net2's inference. NaN never wins a window and a window of only padding gives
 * −∞ — the tfjs cpu backend's rule, which the stock kernel does not follow. Other dtypes go to
 * `stock`.
 *
 * Input `x [N, H, W, C]`; output `[N, oH, oW, C]` (shapes from `backend_util.computePool2DInfo`).
 *
 * @param stock the wasm backend's registered `MaxPool` kernel function.
 */
export function makeMaxPool(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' || x.shape.length !== 4) return stock(args);
    const pool = poolGeometry(x.shape, args.attrs as unknown as PoolAttrs);
    const [N, , , C] = x.shape;
    const out = backend.makeOutput([N, pool.outHeight, pool.outWidth, C], 'float32');
    if (N * pool.outHeight * pool.outWidth * C === 0) return out;
    activeNativeKernels().run('max_pool', [heapOffset(backend, x), heapOffset(backend, out), ...pool.args]);
    return out;
  };
}

/** Kernel config of the native `MaxPool` (see {@link makeMaxPool}). */
export function maxPoolConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeMaxPool(stock.kernelFunc) };
}
