import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { wrapFusedMatMul, wrapTransposedBatchMatMul } from './batch-mat-mul.kernel.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.kernel.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.kernel.js';
import { gatherConfig } from './gather.kernel.js';
import { sliceConfig } from './slice.kernel.js';
import { maxPoolGradConfig } from './max-pool-grad.kernel.js';
import { maxPoolConfig } from './max-pool.kernel.js';
import { conv2DConfig, makeConv2D } from './conv2d.kernel.js';
import { batchNormConfig, batchNormGradientConfig, batchNormGradSumsConfig } from './batch-norm.kernel.js';
import { binaryConfig } from './binary.kernel.js';
import { reluGradConfig, reluGradientConfig } from './relu-grad.kernel.js';
import { castConfig, sharedIdentityConfig } from './shared-buffer.kernel.js';
import { meanConfig, meanGradientConfig, sumConfig } from './sum.kernel.js';
import { tileConfig } from './tile.kernel.js';

type Tf = typeof import('@tensorflow/tfjs');

/** Marks the kernels this package registered, so that installing again is a no-op. */
const OURS = Symbol.for('keypoints.wasm.trainingKernel');

/** Names of the wasm kernels {@link installTrainingKernels} registers or wraps. */
export const TRAINING_KERNEL_NAMES = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'BatchMatMul',
  '_FusedMatMul',
  'Sum',
  'Identity',
  'Cast',
  'GatherV2',
  'Slice',
  'KeypointsReluGrad',
  'MaxPool',
  'Conv2D',
  'FusedConv2D',
  'Add',
  'Sub',
  'Multiply',
  'RealDiv',
  'Tile',
  'Mean',
  'FusedBatchNorm',
  'KeypointsBatchNormGradSums',
] as const;

/** Ops whose gradient {@link installTrainingKernels} replaces on the wasm backend (stock elsewhere). */
export const TRAINING_GRADIENT_NAMES = ['Relu', 'FusedBatchNorm', 'Mean'] as const;

function mark(config: KernelConfig): KernelConfig {
  return Object.assign(config, { [OURS]: true });
}

/** Whether `config` was registered by this package. */
export function isTrainingKernel(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config as unknown as Record<symbol, boolean>)[OURS] === true;
}

/**
 * Register this package's training kernels for the `wasm` backend (idempotent). Must run after
 * `@tensorflow/tfjs-backend-wasm` registered its kernels; the wrappers call the stock kernels.
 *
 * - new: `Conv2DBackpropFilter` (tfjs-backend-wasm has none: no conv layer could train);
 * - faster: `Conv2DBackpropInput` (XNNPACK conv of the flipped filter), `Sum` over leading axes
 *   and `MaxPoolGrad` (wasm SIMD, all threads), transposed `BatchMatMul` (explicit transpose);
 * - fixed: `MaxPoolGrad` routes to the first maximum, also when it is ≤ 0;
 * - no copies: `Identity` and same-dtype `Cast` share the buffer;
 * - faster forward: `MaxPool` (wasm SIMD, all threads) and `Conv2D`/`FusedConv2D` (implicit GEMM
 *   in place, a direct kernel for one-channel inputs, dot products for fewer than 4 output
 *   channels, bias and ReLU fused; also under `Conv2DBackpropInput`), XNNPACK for the shapes they
 *   do not take;
 * - `Add`, `Sub`, `Multiply`, `RealDiv` of a float32 tensor and one value per channel of its last
 *   axis, either order (a bias `Add`: training keeps it apart from the convolution; batch
 *   normalization's centring and scaling) in one pass on all threads;
 * - batch normalization: `FusedBatchNorm` (one pass), `Mean` over leading axes (the batch moments),
 *   `Tile` of 4-byte values (broadcasts), and the `FusedBatchNorm` and `Mean` gradients on the wasm
 *   backend (two passes and one instead of ~14 and 3; `KeypointsBatchNormGradSums`);
 * - `GatherV2` of whole rows (model.fit's batches) copies rows on all threads; contiguous `Slice`s
 *   (model.predict's batches) are one copy inside the heap instead of a read of the whole input;
 * - fused: the `Relu` gradient runs one wasm pass (`KeypointsReluGrad`) on the wasm backend and
 *   the stock gradient elsewhere (tfjs keeps one gradient per op for all backends).
 */
export function installTrainingKernels(tf: Tf): void {
  const stock = (name: string): KernelConfig => {
    const config = tf.getKernel(name, 'wasm');
    if (config === undefined) throw new Error(`tfjs-backend-wasm has no '${name}' kernel to build on`);
    return config;
  };
  const replace = (make: () => KernelConfig, name: string): void => {
    const current = tf.getKernel(name, 'wasm');
    if (isTrainingKernel(current)) return;
    const config = mark(make());
    if (current !== undefined) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  };
  replace(() => ({ ...conv2dBackpropFilterConfig }), 'Conv2DBackpropFilter');
  replace(() => conv2dBackpropInputConfig(makeConv2D(stock('Conv2D').kernelFunc)), 'Conv2DBackpropInput');
  replace(() => conv2DConfig(stock('Conv2D')), 'Conv2D');
  replace(() => conv2DConfig(stock('FusedConv2D')), 'FusedConv2D');
  replace(() => ({ ...maxPoolGradConfig }), 'MaxPoolGrad');
  replace(() => maxPoolConfig(stock('MaxPool')), 'MaxPool');
  replace(() => binaryConfig('Add', stock('Add')), 'Add');
  replace(() => binaryConfig('Sub', stock('Sub')), 'Sub');
  replace(() => binaryConfig('Multiply', stock('Multiply')), 'Multiply');
  replace(() => binaryConfig('RealDiv', stock('RealDiv')), 'RealDiv');
  replace(() => tileConfig(stock('Tile')), 'Tile');
  replace(() => meanConfig(stock('Mean')), 'Mean');
  replace(() => batchNormConfig(stock('FusedBatchNorm')), 'FusedBatchNorm');
  replace(() => ({ ...batchNormGradSumsConfig }), batchNormGradSumsConfig.kernelName);
  replace(() => ({ ...sharedIdentityConfig }), 'Identity');
  replace(() => sumConfig(stock('Sum')), 'Sum');
  replace(() => gatherConfig(stock('GatherV2')), 'GatherV2');
  replace(() => sliceConfig(stock('Slice')), 'Slice');
  replace(() => castConfig(stock('Cast')), 'Cast');
  replace(() => wrapFusedMatMul(stock('_FusedMatMul')), '_FusedMatMul');
  replace(() => ({ ...reluGradConfig }), reluGradConfig.kernelName);
  const replaceGradient = (name: (typeof TRAINING_GRADIENT_NAMES)[number], make: (stock: GradConfig) => GradConfig): void => {
    const current = tf.getGradient(name);
    if (current === undefined || isTrainingKernel(current as unknown as KernelConfig)) return;
    tf.unregisterGradient(name);
    tf.registerGradient(Object.assign(make(current), { [OURS]: true }));
  };
  replaceGradient('Relu', (stock) => reluGradientConfig(tf, stock));
  replaceGradient('FusedBatchNorm', (stock) => batchNormGradientConfig(tf, stock));
  replaceGradient('Mean', (stock) => meanGradientConfig(tf, stock));
  replace(() => {
    const wrapped = wrapTransposedBatchMatMul(stock('BatchMatMul'), stock('Transpose').kernelFunc);
    return { ...wrapped };
  }, 'BatchMatMul');
}
