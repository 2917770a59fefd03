import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, nativeEpilogue, type WasmBackendInternals } from './wasm-kernel-context.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
}

/**
 * Wrap the wasm `Conv2D` or `FusedConv2D` (XNNPACK) so that the convolutions of this project's
 * CNNs run as this package's wasm SIMD kernels on all threads, bias and ReLU fused:
 *
 * - a **one-channel** input (every CNN's first layer: a 96×96×1 grayscale face into 32 channels,
 *   Nouri 2014 net2 … net8): a direct kernel over the `KH·KW` taps. XNNPACK's packed GEMM has only
 *   9 terms per output there and ran it at about half the rate of the other layers;
 * - any other input: an implicit GEMM (4 pixels × 8 channels per register tile, the filter
 *   `[KH, KW, Cin, Cout]` read in place as the `[KH·KW·Cin, Cout]` matrix, no im2col copy); padded
 *   convolutions first copy the input into a zero border;
 * - fewer than 4 output channels (the input gradient of a one-channel first layer, 16 or 32
 *   channels into 1, which tfjs computes on every training step even though nothing uses it): dot
 *   products of `KW·Cin` contiguous input values with the filter's rows, 4 pixels at a time.
 *
 * Taken: float32, NHWC, `x [N, H, W, Cin]`, `filter [KH, KW, Cin, Cout]` with `Cout % 4 == 0` or `Cout < 4`,
 * dilation 1, any stride and padding, activation linear or ReLU, a bias of `Cout` values or none,
 * no PReLU weights. Everything else goes to `stock`. Output `[N, oH, oW, Cout]`; values equal the
 * cpu backend's up to float rounding order.
 *
 * @param stock the wasm backend's registered `Conv2D` or `FusedConv2D` kernel function.
 */
export function makeConv2D(stock: KernelFunc): KernelFunc {
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
      filter.shape.length === 4 &&
      x.shape[3] === filter.shape[2] &&
      (Cout % 4 === 0 || Cout < 4) &&
      (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
      (dilations === 1 || (Array.isArray(dilations) && dilations.every((d) => d === 1))) &&
      nativeEpilogue(activation, bias, preluActivationWeights, Cout);
    if (!taken) return stock(args);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const [N, H, W, Cin] = x.shape;
    const { outHeight: oH, outWidth: oW, filterHeight: KH, filterWidth: KW, strideHeight: sH, strideWidth: sW } = info;
    const { top, left } = info.padInfo;
    const out = backend.makeOutput([N, oH, oW, Cout], 'float32');
    if (N * oH * oW * Cout === 0) return out;
    const native = activeNativeKernels();
    const [xPtr, wPtr, bPtr, oPtr] = [
      heapOffset(backend, x), heapOffset(backend, filter), bias == null ? 0 : heapOffset(backend, bias), heapOffset(backend, out),
    ];
    const relu = activation === 'relu' ? 1 : 0;
    if (Cin === 1 && Cout % 4 === 0) {
      native.run('conv2d_c1', [xPtr, wPtr, bPtr, oPtr, N, H, W, oH, oW, Cout, KH, KW, sH, sW, top, left, relu]);
      return out;
    }
    // Rows/columns of the (padded) input the windows touch.
    const Hn = (oH - 1) * sH + KH;
    const Wn = (oW - 1) * sW + KW;
    const needsPad = top > 0 || left > 0 || Hn > H || Wn > W;
    const [xH, xW] = needsPad ? [Hn, Wn] : [H, W];
    const padded = needsPad ? native.malloc(N * Hn * Wn * Cin * 4) : 0;
    const transposed = Cout % 4 !== 0 ? native.malloc(KH * KW * Cin * Cout * 4) : 0;
    try {
      if (needsPad) native.run('spread_pad', [xPtr, padded, N, H, W, Cin, Hn, Wn, top, left, 1, 1]);
      const args = [needsPad ? padded : xPtr, wPtr, bPtr, oPtr, N, xH, xW, Cin, oH, oW, Cout, sH, sW, KH, KW, relu];
      if (transposed === 0) {
        native.run('conv2d_fwd', args);
      } else {
        // fewer than 4 output channels: dot products over [Cout, KH, KW, Cin] rows of the filter
        const M = KH * KW * Cin;
        const w = native.float32View(wPtr, M * Cout);
        const t = native.float32View(transposed, M * Cout);
        for (let m = 0; m < M; m++) for (let co = 0; co < Cout; co++) t[co * M + m] = w[m * Cout + co];
        args[1] = transposed;
        native.run('conv2d_dot', args);
      }
    } finally {
      if (padded !== 0) native.free(padded);
      if (transposed !== 0) native.free(transposed);
    }
    return out;
  };
}

/** Kernel config of the convolution wrapped around `stock` (see {@link makeConv2D}). */
export function conv2DConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeConv2D(stock.kernelFunc) };
}
