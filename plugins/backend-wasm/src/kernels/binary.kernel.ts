import { backend_util, util } from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { activeNativeKernels } from '../native/active.js';
import { heapOffset, type WasmBackendInternals } from './wasm-kernel-context.js';

/** The binary ops csrc's `binary_act` runs (its `op` argument). */
export const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
export type BinaryOpName = keyof typeof BINARY_OPS;
/** `binary_act`'s op that ignores `b` (out = act(a)). */
const NO_OPERAND = 4;

/** How `binary_act` reads an operand: the whole output shape, or one value per channel. */
const FULL = 0;
const PER_CHANNEL = 1;

/**
 * How `binary_act` runs `a op b` (float32, tfjs broadcasting), or `undefined` when it does not: one
 * operand has the output's shape and the other one value per channel of the last axis (`[C]`,
 * `[1, 1, 1, C]`, C ≥ 2: a bias, a batch-norm scale, a mean kept with its dimensions), in either
 * order.
 */
export function binaryPlan(a: TensorInfo, b: TensorInfo): { shape: number[]; rows: number; C: number; ka: number; kb: number } | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const C = shape[shape.length - 1];
  const perChannel = (t: TensorInfo): boolean =>
    C >= 2 && t.shape.length <= shape.length && t.shape[t.shape.length - 1] === C && util.sizeFromShape(t.shape) === C;
  const full = (t: TensorInfo): boolean => util.arraysEqual(t.shape, shape);
  const ka = full(a) && perChannel(b) ? FULL : perChannel(a) && full(b) ? PER_CHANNEL : undefined;
  if (ka === undefined) return undefined;
  return { shape, rows: util.sizeFromShape(shape) / C, C, ka, kb: ka === FULL ? PER_CHANNEL : FULL };
}

/**
 * Wrap the wasm `Add`, `Sub`, `Multiply` or `RealDiv` so that a float32 operand with one value per
 * channel of the last axis, in either order, is one wasm SIMD pass on all threads (csrc's
 * `binary_act`): training's bias `Add` (tfjs-core fuses conv + bias + ReLU only at inference) and
 * batch normalization's centring and scaling (`x − mean [1, 1, 1, C]`, `dy · g·r [C]`), which
 * tfjs-backend-wasm runs through a broadcasting loop (~3× slower at 64×96×96×16). Operands of one
 * shape and scalars stay with the stock kernels: XNNPACK's threaded passes measured as fast as
 * this kernel there (same process, alternating). Anything else also goes to `stock`. Results are
 * the cpu backend's: one IEEE float32 operation per element.
 *
 * @param stock the wasm backend's registered kernel function of `op`.
 */
export function makeBinary(op: BinaryOpName, stock: KernelFunc): KernelFunc {
  return (args) => {
    const backend = args.backend as unknown as WasmBackendInternals;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const plan = binaryPlan(a, b);
    if (plan === undefined) return stock(args);
    const out = backend.makeOutput(plan.shape, 'float32');
    if (plan.rows > 0) {
      activeNativeKernels().run('binary_act', [
        heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out), plan.rows, plan.C, plan.ka, plan.kb, BINARY_OPS[op], 0,
      ]);
    }
    return out;
  };
}

/**
 * `act(x + bias)` in place over `rows` rows of `C` (a fused layer's epilogue), `bias` a heap offset
 * of `C` floats or 0 for none, `relu` whether to apply ReLU.
 */
export function biasActInPlace(x: number, bias: number, rows: number, C: number, relu: boolean): void {
  activeNativeKernels().run('binary_act', [x, bias, x, rows, C, FULL, PER_CHANNEL, bias === 0 ? NO_OPERAND : BINARY_OPS.Add, relu ? 1 : 0]);
}

/** Kernel config of the native `op` (see {@link makeBinary}). */
export function binaryConfig(op: BinaryOpName, stock: KernelConfig): KernelConfig {
  return { ...stock, kernelFunc: makeBinary(op, stock.kernelFunc) };
}
