import { util } from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig, KernelFunc, Tensor, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

type Tf = typeof import('@tensorflow/tfjs');

/**
 * Per-channel sums over the rows of `a` (`[P, C]` in memory; csrc's `channel_sums`, threads split
 * the rows, float64 accumulation of 64-row float32 blocks): `s1[c] = Σ_p a[p, c]` and, when `b`
 * and `mean` are given, `s2[c] = Σ_p a[p, c] · (b[p, c] − mean[c])` (the batch-norm gradient's
 * sums, `a = dy`, `b = x`). Returns `[s1, s2]` in float64 (`s2` zeros without `b`).
 */
export function channelSums(
  backend: WasmBackendInternals,
  a: TensorInfo,
  P: number,
  C: number,
  b?: TensorInfo,
  mean?: TensorInfo,
): [Float64Array, Float64Array] {
  const native = activeNativeKernels();
  const s1 = new Float64Array(C);
  const s2 = new Float64Array(C);
  if (P === 0 || C === 0) return [s1, s2];
  const threads = native.threads;
  const part = native.malloc(16 * C * threads);
  try {
    const withB = b !== undefined && mean !== undefined;
    native.run('channel_sums', [
      heapOffset(backend, a), withB ? heapOffset(backend, b) : 0, withB ? heapOffset(backend, mean) : 0, part, P, C, withB ? 1 : 0,
    ]);
    const parts = native.float64View(part, 2 * C * threads);
    for (let t = 0; t < threads; t++) {
      const o = 2 * C * t;
      for (let c = 0; c < C; c++) {
        s1[c] += parts[o + c];
        s2[c] += parts[o + C + c];
      }
    }
  } finally {
    native.free(part);
  }
  return [s1, s2];
}

/**
 * A float32 reduction over leading axes (`[N, H, W, C]` over `[0, 1, 2]`, `[B, units]` over `[0]`):
 * the shape of the result, the rows `P` reduced and the values `C` per row; `undefined` for any
 * other reduction.
 */
function leadingReduction(x: TensorInfo, axis: number | number[], keepDims: boolean | undefined): { shape: number[]; P: number; C: number } | undefined {
  const rank = x.shape.length;
  const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== 'float32') return undefined;
  const rest = x.shape.slice(axes.length);
  return {
    shape: keepDims ? [...axes.map(() => 1), ...rest] : rest,
    P: util.sizeFromShape(x.shape.slice(0, axes.length)),
    C: util.sizeFromShape(rest),
  };
}

/**
 * Wrap the wasm `Sum` (`mean = false`) or `Mean` (`mean = true`) so that a float32 reduction over
 * leading axes — every bias gradient, `[N, H, W, C]` over `[0, 1, 2]`, and batch normalization's
 * batch mean and variance (`tf.moments`) — runs as per-channel sums in wasm SIMD over all threads
 * (float64 accumulation of 64-row float32 blocks; a mean divides the float64 sum by the count).
 * The stock kernels transpose the whole tensor first (conv1 of net2: 0.4 s per step). Other
 * reductions go to `stock`.
 *
 * @param stock the wasm backend's registered `Sum` or `Mean` kernel function.
 */
export function makeSum(stock: KernelFunc, mean = false): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims?: boolean };
    const plan = leadingReduction(x, axis, keepDims);
    if (plan === undefined) return stock(args);
    const { shape, P, C } = plan;
    const out = backend.makeOutput(shape, 'float32');
    if (C === 0) return out;
    const [s1] = channelSums(backend, x, P, C);
    // P = 0: a sum of nothing is 0, a mean NaN (0 / 0), as the cpu backend gives
    activeNativeKernels().float32View(heapOffset(backend, out), C).set(mean ? s1.map((v) => v / P) : s1);
    return out;
  };
}

/** Kernel config of the leading-axes `Sum` (see {@link makeSum}). */
export function sumConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeSum(stock.kernelFunc) };
}

/** Kernel config of the leading-axes `Mean` (see {@link makeSum}). */
export function meanConfig(stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeSum(stock.kernelFunc, true) };
}

/**
 * The `Mean` gradient: on the wasm backend `tile(dy / n, reps)` — the mean's gradient divided by
 * the count once per value and broadcast back by one native `Tile` pass — instead of the stock
 * `div(mul(reshape(dy), ones(x.shape)), n)`, three passes over the input's shape (a `Fill`, a
 * broadcasting `Multiply` and a `RealDiv`; batch normalization runs it twice per layer). The
 * values are the same bits (`dy · 1 / n` = `dy / n`). Other backends keep `stock` (tfjs keeps one
 * gradient per op for all backends).
 */
export function meanGradientConfig(tf: Tf, stock: GradConfig): GradConfig {
  return {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const grad = dy as Tensor;
      if (tf.getBackend() !== 'wasm' || grad.dtype !== 'float32') return stock.gradFunc(dy, saved, attrs);
      const axes = util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const reps = x.shape.map((d, i) => (axes.includes(i) ? d : 1));
      const n = util.sizeFromShape(axes.map((a) => x.shape[a]));
      return { x: () => tf.tile(tf.div(tf.reshape(grad, expanded), n), reps) };
    },
  };
}
