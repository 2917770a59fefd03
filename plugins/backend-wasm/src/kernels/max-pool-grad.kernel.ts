import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

interface Attrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * `MaxPoolGrad` for the wasm backend: each window's gradient goes to the window's first maximum in
 * raster order (TensorFlow's and the tfjs cpu backend's rule), computed in wasm SIMD over all
 * threads. Replaces tfjs-backend-wasm's kernel, which routes nothing from a window whose maximum
 * is ≤ 0 and gives ties to the last maximum.
 * Inputs `dy [N, oH, oW, C]`, `input [N, H, W, C]` (the pooled tensor; `output` is not needed);
 * output `[N, H, W, C]` float32.
 */
export const maxPoolGrad: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as WasmBackendInternals;
  const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as Attrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [N, H, W, C] = input.shape;
  const out = backend.makeOutput([...input.shape], 'float32');
  activeNativeKernels().run('max_pool_grad', [
    heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out),
    N, H, W, C, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
    info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ]);
  return out;
};

/** Kernel config of {@link maxPoolGrad}. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
