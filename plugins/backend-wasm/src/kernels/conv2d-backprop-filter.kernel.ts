import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * `Conv2DBackpropFilter` for the wasm backend (tfjs-backend-wasm has none, so no conv layer could
 * train): the filter gradient `dW[kh, kw, ci, co] = Σ x[n, oh·sH + kh − padTop, ow·sW + kw − padLeft, ci] · dy[n, oh, ow, co]`
 * as a register-tiled wasm SIMD GEMM over all threads (csrc/kernels.c), reading x and dy in place.
 * Inputs `x [N, H, W, Cin]`, `dy [N, oH, oW, Cout]` float32 NHWC; output `[KH, KW, Cin, Cout]`.
 * Padding (`same`, explicit) is applied to a zero-padded copy of x.
 */
export const conv2dBackpropFilter: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as WasmBackendInternals;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Attrs;
  if (dataFormat === 'NCHW') {
    throw new Error("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only (tf.layers uses channelsLast)");
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`wasm Conv2DBackpropFilter supports float32 only, got ${x.dtype} and ${dy.dtype}`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const [N, H, W, Cin] = x.shape;
  const { outHeight: oH, outWidth: oW, outChannels: Cout, filterHeight: KH, filterWidth: KW } = info;
  const { strideHeight: sH, strideWidth: sW } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput([...filterShape], 'float32');
  const native = activeNativeKernels();
  const M = KH * KW * Cin;
  if (N * oH * oW === 0 || M * Cout === 0) {
    native.zero(heapOffset(backend, out), M * Cout);
    return out;
  }
  // Rows/columns of (padded) x that the windows touch.
  const Hn = (oH - 1) * sH + KH;
  const Wn = (oW - 1) * sW + KW;
  const needsPad = top > 0 || left > 0 || Hn > H || Wn > W;
  let xPtr = heapOffset(backend, x);
  let xH = H;
  let xW = W;
  let padded = 0;
  // Few output channels: threads split the images (each streams whole rows of dy) and their totals
  // are added at the end; otherwise they split the channels. Either way each thread works in two
  // private [M, tc] blocks (tc a multiple of 16 floats: threads never share a cache line).
  const threads = native.threads;
  const psplit = threads > 1 && Cout < 16 * threads && N >= threads ? 1 : 0;
  const tc = psplit ? Math.ceil(Cout / 16) * 16 : Math.ceil(Cout / threads / 16) * 16;
  const raw = native.malloc(2 * threads * M * tc * 4 + 64 + M * 4);
  const scratch = Math.ceil(raw / 64) * 64;
  // x offset of filter row m = (kh*KW + kw)*Cin + ci from a window's corner.
  const offsets = scratch + 2 * threads * M * tc * 4;
  const table = native.int32View(offsets, M);
  for (let m = 0; m < M; m++) {
    const ci = m % Cin;
    const k = (m - ci) / Cin;
    table[m] = ((Math.floor(k / KW) * (needsPad ? Wn : W)) + (k % KW)) * Cin + ci;
  }
  try {
    if (needsPad) {
      padded = native.malloc(N * Hn * Wn * Cin * 4);
      native.run('spread_pad', [xPtr, padded, N, H, W, Cin, Hn, Wn, top, left, 1, 1]);
      xPtr = padded;
      xH = Hn;
      xW = Wn;
    }
    native.run('conv2d_filter_grad', [
      xPtr, heapOffset(backend, dy), heapOffset(backend, out), scratch,
      N, xH, xW, Cin, oH, oW, Cout, KH, KW, sH, sW, tc, psplit, offsets,
    ]);
    if (psplit) {
      // The totals are the second block of each thread's pair.
      native.run('sum_blocks', [scratch + M * tc * 4, heapOffset(backend, out), threads, 2 * M * tc, M, Cout, tc]);
    }
  } finally {
    native.free(raw);
    if (padded !== 0) native.free(padded);
  }
  return out;
};

/** Kernel config of {@link conv2dBackpropFilter}. */
export const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter,
};
