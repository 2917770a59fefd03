import { util } from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { channelSums } from './sum.kernel.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

type Tf = typeof import('@tensorflow/tfjs');

/** Name of the batch-norm gradient's sums kernel (registered for wasm only). */
export const BATCH_NORM_GRAD_SUMS_KERNEL = 'KeypointsBatchNormGradSums';

/**
 * Whether `t` (absent: fine) holds one float32 value per channel of an input whose last axis has
 * `C` values: shape `[C]` or `[1, …, 1, C]`, as batch normalization's mean, variance, offset and
 * scale are for `tf.layers.batchNormalization({ axis: -1 })`.
 */
function perChannel(t: TensorInfo | null | undefined, C: number, rank: number): boolean {
  if (t == null) return true;
  return (
    t.dtype === 'float32' && t.shape.length >= 1 && t.shape.length <= rank && t.shape[t.shape.length - 1] === C && util.sizeFromShape(t.shape) === C
  );
}

/**
 * Wrap the wasm `FusedBatchNorm` so that a float32 batch normalization over the last axis,
 * `(x − mean) · scale / √(variance + ε) + offset` with one mean, variance, offset and scale per
 * channel, is one wasm SIMD pass on all threads (csrc's `batch_norm`; the per-channel factor
 * `scale / √(variance + ε)` is computed in float64 first). Training runs it with the batch's
 * moments, `model.predict` with the moving ones. Anything else goes to `stock`.
 *
 * @param stock the wasm backend's registered `FusedBatchNorm` kernel function.
 */
export function makeBatchNorm(stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
    const { varianceEpsilon } = args.attrs as { varianceEpsilon: number };
    if (x === undefined || mean === undefined || variance === undefined || x.dtype !== 'float32' || x.shape.length < 1) return stock(args);
    const rank = x.shape.length;
    const C = x.shape[rank - 1];
    if (C === 0 || ![mean, variance, offset, scale].every((t) => perChannel(t, C, rank))) return stock(args);
    const out = backend.makeOutput([...x.shape], 'float32');
    const rows = util.sizeFromShape(x.shape) / C;
    if (rows === 0) return out;
    const native = activeNativeKernels();
    const k = native.malloc(4 * C);
    try {
      const v = native.float32View(heapOffset(backend, variance), C);
      const g = scale == null ? undefined : native.float32View(heapOffset(backend, scale), C);
      const kv = native.float32View(k, C);
      for (let c = 0; c < C; c++) kv[c] = (g === undefined ? 1 : g[c]) / Math.sqrt(v[c] + varianceEpsilon);
      native.run('batch_norm', [
        heapOffset(backend, x), heapOffset(backend, mean), k, offset == null ? 0 : heapOffset(backend, offset), heapOffset(backend, out), rows, C,
      ]);
    } finally {
      native.free(k);
    }
    return out;
  };
}

/** Kernel config of the native `FusedBatchNorm` (see {@link makeBatchNorm}). */
export function batchNormConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeBatchNorm(stock.kernelFunc) };
}

/**
 * The sums the batch-norm gradient needs, in one pass over `dy` and `x` on all threads:
 * `[Σ dy, Σ dy · (x − mean)]` per channel (float64 accumulation), as a `[2, C]` float32 tensor.
 * Inputs `dy`, `x` float32 of one shape (last axis `C`), `mean` `C` values.
 */
export const batchNormGradSums: KernelFunc = ({ inputs, backend: b }) => {
  const backend = b as unknown as WasmBackendInternals;
  const { dy, x, mean } = inputs as { dy: TensorInfo; x: TensorInfo; mean: TensorInfo };
  const C = x.shape[x.shape.length - 1];
  const P = util.sizeFromShape(x.shape) / C;
  const [s1, s2] = channelSums(backend, dy, P, C, x, mean);
  const out = backend.makeOutput([2, C], 'float32');
  const o = activeNativeKernels().float32View(heapOffset(backend, out), 2 * C);
  o.set(s1);
  o.set(s2, C);
  return out;
};

/** Kernel config of {@link batchNormGradSums}. */
export const batchNormGradSumsConfig: KernelConfig = {
  kernelName: BATCH_NORM_GRAD_SUMS_KERNEL,
  backendName: 'wasm',
  kernelFunc: batchNormGradSums,
};

/**
 * The `FusedBatchNorm` gradient on the wasm backend, for float32 inputs normalized over the last
 * axis (one mean, variance and scale per channel): with `r = 1 / √(variance + ε)`, `g` the scale
 * (1 without) and the sums `S1 = Σ dy`, `S2 = Σ dy · (x − mean)` over all but the last axis,
 *
 *   dx = dy · g·r (one native per-channel `Multiply`),  d mean = −g·r·S1,
 *   d variance = −½·g·r³·S2,  d scale = r·S2,  d offset = S1,
 *
 * the same derivatives as tfjs's stock gradient, which builds them with ~14 passes over the
 * input's shape (a `Tile` of `r` to the whole shape, `x − mean`, `dy · scale`, and a product and a
 * sum for each of the four per-channel derivatives). Here the two sums are one pass
 * (`KeypointsBatchNormGradSums`), computed only when a per-channel derivative is asked for (a
 * frozen layer asks for `dx` only), and the per-channel arithmetic is float64. Other backends and
 * other shapes keep `stock` (tfjs keeps one gradient per op for all backends).
 *
 * Like the stock gradients of this package's fused kernels, it is not differentiable again
 * (second-order gradients through it are not supported).
 */
export function batchNormGradientConfig(tf: Tf, stock: GradConfig): GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as Array<Tensor | undefined>;
      const grad = dy as Tensor;
      const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
      const rank = x?.rank ?? 0;
      const C = rank > 0 ? x!.shape[rank - 1] : 0;
      const native =
        tf.getBackend() === 'wasm' &&
        x !== undefined &&
        mean !== undefined &&
        variance !== undefined &&
        x.dtype === 'float32' &&
        grad.dtype === 'float32' &&
        util.arraysEqual(grad.shape, x.shape) &&
        C > 0 &&
        [mean, variance, scale].every((t) => perChannel(t, C, rank));
      if (!native) return stock.gradFunc(dy, saved, attrs);
      const v = variance.dataSync() as Float32Array;
      const g = scale === undefined ? undefined : (scale.dataSync() as Float32Array);
      const r = Float64Array.from(v, (value) => 1 / Math.sqrt(value + varianceEpsilon));
      const gr = r.map((value, c) => (g === undefined ? 1 : g[c]) * value);
      let sums: Float32Array | undefined;
      const sum = (which: 0 | 1): Float32Array => {
        if (sums === undefined) {
          const t = tf.engine().runKernel(BATCH_NORM_GRAD_SUMS_KERNEL, { dy: grad, x, mean }) as Tensor;
          sums = t.dataSync() as Float32Array;
          t.dispose();
        }
        return sums.subarray(which * C, (which + 1) * C);
      };
      const perChannelTensor = (values: ArrayLike<number>) => tf.tensor(Float32Array.from(values), mean.shape, 'float32');
      return {
        x: () => tf.mul(grad, tf.tensor1d(Float32Array.from(gr), 'float32')),
        mean: () => perChannelTensor(sum(0).map((s, c) => -gr[c] * s)),
        variance: () => perChannelTensor(sum(1).map((s, c) => -0.5 * gr[c] * r[c] * r[c] * s)),
        scale: () => tf.tensor(Float32Array.from(sum(1), (s, c) => r[c] * s), scale!.shape, 'float32'),
        offset: () => perChannelTensor(sum(0)),
      };
    },
  };
}
