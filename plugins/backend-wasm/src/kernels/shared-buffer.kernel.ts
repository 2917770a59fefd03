import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendInternals } from './wasm-kernel-context.js';

/**
 * `Identity` that shares the input's buffer (reference counted), as the cpu backend does. The
 * engine clones every tensor it saves for the backward pass; tfjs-backend-wasm's Identity copies
 * each of them (net2: ~60 ms per step at batch 128).
 */
export const sharedIdentity: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  (backend as unknown as WasmBackendInternals).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
};

/** Kernel config of {@link sharedIdentity}. */
export const sharedIdentityConfig: KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: sharedIdentity,
};

/**
 * Wrap the wasm `Cast` so that a cast to the tensor's own dtype shares the buffer instead of
 * copying it (the relu gradient casts float32 activations to float32 on every step).
 *
 * @param stock the wasm backend's registered `Cast` kernel function.
 */
export function makeCast(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if ((args.attrs as { dtype: string }).dtype !== x.dtype) return stock(args);
    return sharedIdentity(args);
  };
}

/** Kernel config of the buffer-sharing `Cast` (see {@link makeCast}). */
export function castConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeCast(stock.kernelFunc) };
}
