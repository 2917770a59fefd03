import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** Marks kernels this module produced, so wrapping is idempotent. */
const WRAPPED = Symbol.for('keypoints.wasm.transposedBatchMatMul');

interface BackendLike {
  disposeData(dataId: object): boolean | void;
}

/**
 * Wrap the stock wasm `BatchMatMul` so that a transposed operand is first transposed
 * explicitly (XNNPACK-backed `Transpose`) and the product runs through the fast
 * non-transposed path.
 *
 * Why: tfjs-backend-wasm 4.22 routes `transposeA`/`transposeB` matMuls — exactly the ones
 * every dense-layer gradient uses (`dW = xᵀ·dy`, `dx = dy·Wᵀ`) — through a scalar loop that is
 * ~5× slower than the plain product (measured for net1's `[128, 9216]ᵀ × [128, 100]`: 113 ms
 * vs 25 ms). Results are identical up to float rounding order.
 *
 * @param stock the registered wasm `BatchMatMul` kernel config.
 * @param transpose the registered wasm `Transpose` kernel function.
 */
export function wrapTransposedBatchMatMul(stock: KernelConfig, transpose: KernelFunc): KernelConfig {
  if ((stock as unknown as Record<symbol, boolean>)[WRAPPED]) return stock;
  const kernelFunc: KernelFunc = (args) => {
    const attrs = args.attrs as NamedAttrMap & { transposeA?: boolean; transposeB?: boolean };
    if (!attrs?.transposeA && !attrs?.transposeB) return stock.kernelFunc(args);
    const backend = args.backend as unknown as BackendLike;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const temps: TensorInfo[] = [];
    const t = (x: TensorInfo): TensorInfo => {
      const r = x.shape.length;
      const perm = [...Array(r - 2).keys(), r - 1, r - 2];
      const out = transpose({ inputs: { x }, backend: args.backend, attrs: { perm } }) as TensorInfo;
      temps.push(out);
      return out;
    };
    try {
      return stock.kernelFunc({
        ...args,
        inputs: { a: attrs.transposeA ? t(a) : a, b: attrs.transposeB ? t(b) : b },
        attrs: { ...attrs, transposeA: false, transposeB: false },
      }) as TensorInfo;
    } finally {
      for (const x of temps) backend.disposeData(x.dataId);
    }
  };
  return Object.assign({ ...stock, kernelFunc }, { [WRAPPED]: true });
}
