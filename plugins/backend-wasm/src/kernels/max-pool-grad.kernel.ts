import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/** Attributes of `MaxPool` and `MaxPoolGrad`. */
export interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Geometry of a 2-D pooling of an NHWC `[N, H, W, C]` input: the output size and the shape
 * arguments csrc's `max_pool` and `max_pool_grad` take (N, H, W, C, oH, oW, KH, KW, sH, sW,
 * padTop, padLeft).
 */
export function poolGeometry(shape: readonly number[], attrs: PoolAttrs): { outHeight: number; outWidth: number; args: number[] } {
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  const info = backend_util.computePool2DInfo(shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const [N, H, W, C] = shape;
  return {
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    args: [
      N, H, W, C, info.outHeight, info.outWidth, info.filterHeight, info.filterWidth,
      info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    ],
  };
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
  const out = backend.makeOutput([...input.shape], 'float32');
  const { args } = poolGeometry(input.shape, attrs as unknown as PoolAttrs);
  activeNativeKernels().run('max_pool_grad', [heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out), ...args]);
  return out;
};

/** Kernel config of {@link maxPoolGrad}. */
export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'wasm',
  kernelFunc: maxPoolGrad,
};
