import { backend_util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { callKernel, heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

/**
 * Build the wasm `Conv2DBackpropInput` kernel on top of a forward `Conv2D` kernel (this package's,
 * see conv2d.kernel.ts, which falls back to XNNPACK's for shapes it does not take).
 *
 * The input gradient of a convolution is a "full" correlation of dy with the spatially flipped,
 * in/out-swapped filter: `dx = conv2d(pad(spread(dy, strides)), flip(W)ᵀ, stride 1)`, where
 * `spread` inserts `s − 1` zeros between neighbouring rows/columns (strided convolutions) and the
 * padding is `K − 1 − pad` on the top/left (negative values crop). Stride 1 with non-negative
 * padding hands the padding to the convolution; otherwise csrc's `spread_pad` builds the spread
 * and padded dy in one pass. tfjs-backend-wasm's own kernel is a scalar loop, ~20× slower at
 * net2's shapes.
 * Inputs `dy [N, oH, oW, Cout]`, `filter [KH, KW, Cin, Cout]` float32; output `inputShape` (NHWC).
 *
 *
 * @param conv2d a wasm `Conv2D` kernel function.
 */
export function makeConv2dBackpropInput(conv2d: KernelFunc): KernelFunc {
  return ({ inputs, backend: b, attrs }) => {
    const backend = b as unknown as WasmBackendInternals;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Attrs;
    if (dataFormat === 'NCHW') {
      throw new Error("wasm Conv2DBackpropInput supports dataFormat 'NHWC' only (tf.layers uses channelsLast)");
    }
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [N, H, W] = inputShape;
    const { outHeight: oH, outWidth: oW, inChannels: Cin, outChannels: Cout } = info;
    const { filterHeight: KH, filterWidth: KW, strideHeight: sH, strideWidth: sW } = info;
    const native = activeNativeKernels();
    if (N * H * W * Cin === 0 || N * oH * oW * Cout === 0) {
      const out = backend.makeOutput([...inputShape], 'float32');
      native.zero(heapOffset(backend, out), N * H * W * Cin);
      return out;
    }
    // Geometry of the full correlation: dy's row i sits at top + i*sH of a [H + KH − 1]-row map.
    const top = KH - 1 - info.padInfo.top;
    const left = KW - 1 - info.padInfo.left;
    const Hd = H + KH - 1;
    const Wd = W + KW - 1;
    const bottom = Hd - top - ((oH - 1) * sH + 1);
    const right = Wd - left - ((oW - 1) * sW + 1);

    const flipped = backend.makeOutput([KH, KW, Cout, Cin], 'float32');
    const temps: TensorInfo[] = [flipped];
    try {
      native.run('flip_filter', [heapOffset(backend, filter), heapOffset(backend, flipped), KH, KW, Cin, Cout]);
      let source = dy;
      let convPad: backend_util.ExplicitPadding = [[0, 0], [top, bottom], [left, right], [0, 0]];
      if (sH !== 1 || sW !== 1 || top < 0 || left < 0 || bottom < 0 || right < 0) {
        source = backend.makeOutput([N, Hd, Wd, Cout], 'float32');
        temps.push(source);
        native.run('spread_pad', [
          heapOffset(backend, dy), heapOffset(backend, source), N, oH, oW, Cout, Hd, Wd, top, left, sH, sW,
        ]);
        convPad = [[0, 0], [0, 0], [0, 0], [0, 0]];
      }
      return callKernel(conv2d, backend, { x: source, filter: flipped }, {
        strides: [1, 1],
        pad: convPad as unknown as number,
        dataFormat: 'NHWC',
        dilations: [1, 1],
      });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
}

/** Kernel config of the wasm `Conv2DBackpropInput`, built on `conv2d` (see {@link makeConv2dBackpropInput}). */
export function conv2dBackpropInputConfig(conv2d: KernelFunc): KernelConfig {
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: makeConv2dBackpropInput(conv2d) };
}
