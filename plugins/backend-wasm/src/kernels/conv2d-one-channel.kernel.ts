import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

/**
 * Wrap the wasm `Conv2D` or `FusedConv2D` so that convolutions of a
 * **one-channel** input — the first layer of every CNN here: a 96×96×1 grayscale face into 32
 * channels, Nouri 2014 net2 … net8 — run as this package's direct wasm SIMD kernel with the bias
 * and ReLU fused. With one input channel the product has only `KH·KW` (9) terms per output, too
 * few for XNNPACK's packed GEMM to reach speed (it ran net2's conv1 at about half the rate of
 * conv2 and conv3).
 *
 * Taken: float32, NHWC, `x [N, H, W, 1]`, `filter [KH, KW, 1, Cout]` with `Cout % 4 == 0`,
 * dilation 1, any stride and padding, activation linear or ReLU, a bias of `Cout` values or none,
 * no PReLU weights. Everything else goes to `stock`. Output `[N, oH, oW, Cout]`.
 *
 * @param stock the wasm backend's registered `Conv2D` or `FusedConv2D` kernel function.
 */
export function makeOneChannelConv2D(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined> as {
      x: TensorInfo;
      filter: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const attrs = args.attrs as unknown as Attrs;
    const activation = attrs.activation ?? 'linear';
    const dilations = attrs.dilations ?? 1;
    const Cout = filter.shape[3];
    const taken =
      x.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      x.shape.length === 4 &&
      x.shape[3] === 1 &&
      filter.shape[2] === 1 &&
      Cout % 4 === 0 &&
      (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
      (dilations === 1 || (Array.isArray(dilations) && dilations.every((d) => d === 1))) &&
      (activation === 'linear' || activation === 'relu') &&
      preluActivationWeights == null &&
      (bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === Cout));
    if (!taken) return stock(args);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const [N, H, W] = x.shape;
    const out = backend.makeOutput([N, info.outHeight, info.outWidth, Cout], 'float32');
    if (N * info.outHeight * info.outWidth * Cout === 0) return out;
    activeNativeKernels().run('conv2d_c1', [
      heapOffset(backend, x), heapOffset(backend, filter), bias == null ? 0 : heapOffset(backend, bias),
      heapOffset(backend, out), N, H, W, info.outHeight, info.outWidth, Cout,
      info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
      info.padInfo.top, info.padInfo.left, activation === 'relu' ? 1 : 0,
    ]);
    return out;
  };
}

/** Kernel config of the one-channel convolution wrapped around `stock` (see {@link makeOneChannelConv2D}). */
export function oneChannelConv2DConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeOneChannelConv2D(stock.kernelFunc) };
}
