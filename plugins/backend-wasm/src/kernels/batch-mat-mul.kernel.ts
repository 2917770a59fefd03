import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { biasActInPlace } from './binary.kernel.js';
import { heapOffset, nativeEpilogue, type WasmBackendInternals } from './wasm-kernel-context.js';

/** Marks kernels this module produced, so wrapping is idempotent. */
const WRAPPED = Symbol.for('keypoints.wasm.transposedBatchMatMul');

/**
 * Wrap the stock wasm `BatchMatMul` for training:
 *
 * - float32 products whose batch sizes match run as this package's unpacked wasm SIMD GEMMs on all
 *   threads, with the transposes folded into the strides: `a·b` and `aᵀ·b` (every dense layer's
 *   forward pass and `dW = xᵀ·dy`) as register-tiled products, `a·bᵀ` (`dx = dy·Wᵀ`) as dot
 *   products, `aᵀ·bᵀ` as `a` transposed explicitly then dot products. tfjs-backend-wasm sends
 *   `a·b` to XNNPACK, which packs all of `b` on every call — in training a new 31 MB weight tensor
 *   per step for net2's first dense layer — and the transposed cases to a scalar loop (~5× slower).
 * - anything else (int32, broadcast batches) goes to the stock kernel, transposed operands first
 *   transposed explicitly (XNNPACK's Transpose).
 *
 * Results equal the cpu backend's up to float rounding order.
 *
 * @param stock the registered wasm `BatchMatMul` kernel config.
 * @param transpose the registered wasm `Transpose` kernel function.
 */
export function wrapTransposedBatchMatMul(stock: KernelConfig, transpose: KernelFunc): KernelConfig {
  if ((stock as unknown as Record<symbol, boolean>)[WRAPPED]) return stock;
  const kernelFunc: KernelFunc = (args) => {
    const attrs = args.attrs as NamedAttrMap & { transposeA?: boolean; transposeB?: boolean };
    const backend = args.backend as unknown as WasmBackendInternals;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const tA = attrs?.transposeA === true;
    const tB = attrs?.transposeB === true;
    const temps: TensorInfo[] = [];
    const t = (x: TensorInfo): TensorInfo => {
      const r = x.shape.length;
      const perm = [...Array(r - 2).keys(), r - 1, r - 2];
      const out = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } }) as TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      if (a.dtype === 'float32' && b.dtype === 'float32' && sameBatch(a.shape, b.shape)) {
        return nativeProduct(backend, a, b, tA, tB);
      }
      if (!tA && !tB) return stock.kernelFunc(args);
      return stock.kernelFunc({
        ...args,
        inputs: { a: tA ? t(a) : a, b: tB ? t(b) : b },
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
    } finally {
      for (const x of temps) backend.disposeData(x.dataId);
    }
  };
  return Object.assign({ ...stock, kernelFunc }, { [WRAPPED]: true });
}

/**
 * Wrap the wasm `_FusedMatMul` (dense layers at inference, and in training with a linear
 * activation) the same way: float32, matching batches, no or ReLU activation, a bias of `N`
 * values (or none) run as the unpacked GEMM plus a bias/ReLU pass; anything else goes to `stock`.
 *
 * @param stock the registered wasm `_FusedMatMul` kernel config.
 */
export function wrapFusedMatMul(stock: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const attrs = args.attrs as NamedAttrMap & { transposeA?: boolean; transposeB?: boolean; activation?: string };
    const backend = args.backend as unknown as WasmBackendInternals;
    const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined> as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const activation = attrs.activation ?? 'linear';
    const tB = attrs.transposeB === true;
    const N = tB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
    const supported =
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      sameBatch(a.shape, b.shape) &&
      nativeEpilogue(activation, bias, preluActivationWeights, N);
    if (!supported) return stock.kernelFunc(args);
    const out = nativeProduct(backend, a, b, attrs.transposeA === true, tB);
    const size = out.shape.reduce((p, d) => p * d, 1);
    if (size > 0 && (bias != null || activation === 'relu')) {
      biasActInPlace(heapOffset(backend, out), bias == null ? 0 : heapOffset(backend, bias), size / N, N, activation === 'relu');
    }
    return out;
  };
  return { ...stock, kernelFunc };
}

/** Whether `a` and `b` have rank ≥ 2 and the same leading (batch) dimensions. */
function sameBatch(a: readonly number[], b: readonly number[]): boolean {
  return a.length >= 2 && a.length === b.length && a.slice(0, -2).every((d, i) => d === b[i]);
}

/** `op(a)·op(b)` for `a`, `b` of shape `[...batch, ·, ·]` with the GEMM of csrc/kernels.c. */
function nativeProduct(backend: WasmBackendInternals, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): TensorInfo {
  const r = a.shape.length;
  const outer = a.shape.slice(0, -2);
  const batch = outer.reduce((p, d) => p * d, 1);
  const [a1, a2] = a.shape.slice(r - 2);
  const [b1, b2] = b.shape.slice(r - 2);
  const [M, K] = tA ? [a2, a1] : [a1, a2];
  const N = tB ? b1 : b2;
  const out = backend.makeOutput([...outer, M, N], 'float32');
  if (batch * M * N === 0) return out;
  const native = activeNativeKernels();
  const [pa, pb, pc] = [heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out)];
  if (K === 0) {
    native.zero(pc, batch * M * N);
    return out;
  }
  // Strides of A(m, k) and B(k, n) as stored.
  const [sam, sak] = tA ? [1, M] : [K, 1];
  const [sbk, sbn] = tB ? [1, K] : [N, 1];
  // Few rows: threads split the columns (each packs only its part of B); else the rows.
  const nsplit = M < 4 * N && N >= 32 * native.threads ? 1 : 0;
  const packPerThread = 256 * (nsplit ? Math.ceil(N / native.threads / 16) * 16 + 16 : N + 8);
  const pack = native.malloc(native.threads * packPerThread * 4 + 64);
  try {
    const aligned = Math.ceil(pack / 64) * 64;
    for (let i = 0; i < batch; i++) {
      const [oa, ob, oc] = [pa + i * M * K * 4, pb + i * K * N * 4, pc + i * M * N * 4];
      native.run('gemm', [oa, ob, oc, aligned, M, N, K, sam, sak, sbk, sbn, N, nsplit, packPerThread]);
    }
  } finally {
    native.free(pack);
  }
  return out;
}
