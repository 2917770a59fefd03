/**
 * The correctness suite of the training kernels, shared by one test file per thread count (tfjs
 * threads are per process, and vitest runs each test file in its own process).
 *
 * Every case runs the same computation on the `cpu` backend with tfjs's stock kernels and
 * gradients (the reference) and on `wasm` with this package's kernels, on fresh random inputs,
 * and asserts `max|wasm − cpu| / max|cpu| < 1e-4` for every output.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@keypoints/core';
import { createWasmBackend, wasmBackendInfo } from '../index.js';

export const TOLERANCE = 1e-4;

/** Fresh inputs every run; set KEYPOINTS_TEST_SEED to replay one. */
export const SEED = Number(process.env.KEYPOINTS_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

type Gen = (i: number, rng: SeededRandom) => number;
const uniform: Gen = (_, rng) => rng.uniform(-1, 1);

export interface Input {
  readonly shape: number[];
  readonly values: Float32Array;
}

let salt = 0;
export function input(shape: number[], gen: Gen = uniform): Input {
  const rng = new SeededRandom(SEED + 7919 * ++salt);
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, values: Float32Array.from({ length: size }, (_, i) => gen(i, rng)) };
}

export function maxRelError(got: Float32Array, want: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i] - want[i]));
    den = Math.max(den, Math.abs(want[i]));
  }
  return Number.isNaN(num) ? Number.POSITIVE_INFINITY : num / Math.max(den, 1e-30);
}

/** Evaluate `f` on `backend`, returning every output as a Float32Array (no tensor left behind). */
export async function evaluate(
  backend: string,
  inputs: readonly Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => f(...inputs.map((x) => tf.tensor(x.values, x.shape)))).map((t) => {
    const v = t.dataSync() as Float32Array;
    t.dispose();
    return Float32Array.from(v);
  });
  expect(tf.memory().numTensors, `${backend}: tensors leaked`).toBe(before);
  return out;
}

/** Gradients of `sum(f(inputs) · R)` for a fixed random `R`, w.r.t. every input. */
export function gradientsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, weights: Input): (...xs: tf.Tensor[]) => tf.Tensor[] {
  return (...xs) => {
    const r = tf.tensor(weights.values, weights.shape);
    return tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), r)))(xs);
  };
}

/** Assert that `f` gives the same outputs on wasm as on cpu. */
export async function expectSameAsCpu(
  inputs: readonly Input[],
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<number[]> {
  const want = await evaluate('cpu', inputs, f);
  const got = await evaluate('wasm', inputs, f);
  expect(got.length).toBe(want.length);
  const errors = got.map((g, i) => {
    expect(g.length, `output ${i} size`).toBe(want[i].length);
    return maxRelError(g, want[i]);
  });
  for (const [i, e] of errors.entries()) {
    expect(e, `output ${i}: relative error ${e} (seed ${SEED}; replay with KEYPOINTS_TEST_SEED=${SEED})`).toBeLessThan(TOLERANCE);
  }
  return errors;
}

function outShape(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: readonly Input[]): number[] {
  return tf.tidy(() => f(...inputs.map((x) => tf.zeros(x.shape))).shape);
}

type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
const CONV_CASES: Array<[string, number[], number[], number | [number, number], Pad]> = [
  ['valid, stride 1, 3×3', [2, 9, 8, 3], [3, 3, 3, 4], 1, 'valid'],
  ['valid, stride 1, 2×2, odd size', [3, 7, 7, 5], [2, 2, 5, 6], 1, 'valid'],
  ['valid, stride 2, (H − K) % 2 ≠ 0', [2, 10, 9, 3], [3, 3, 3, 4], 2, 'valid'],
  ['valid, stride [2, 1], 3×2', [2, 9, 8, 2], [3, 2, 2, 3], [2, 1], 'valid'],
  ['same, stride 1, 3×3', [2, 8, 7, 3], [3, 3, 3, 4], 1, 'same'],
  ['same, stride 1, 2×2 (asymmetric padding)', [2, 7, 6, 3], [2, 2, 3, 4], 1, 'same'],
  ['same, stride 2, even size', [2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
  ['same, stride 2, odd size', [2, 9, 7, 3], [3, 3, 3, 5], 2, 'same'],
  ['same, stride 3, 5×5', [1, 11, 10, 2], [5, 5, 2, 3], 3, 'same'],
  ['same, stride [1, 2]', [2, 7, 9, 3], [3, 3, 3, 7], [1, 2], 'same'],
  ['explicit padding, stride 1', [2, 7, 7, 3], [3, 3, 3, 2], 1, [[0, 0], [2, 1], [0, 2], [0, 0]]],
  ['explicit padding, stride 2', [2, 8, 9, 3], [3, 3, 3, 6], 2, [[0, 0], [1, 0], [2, 1], [0, 0]]],
  ['net2 conv1 channels (Cin 1, Cout 32)', [2, 41, 38, 1], [3, 3, 1, 32], 1, 'valid'],
  ['net2 conv2 channels (32 → 64)', [2, 13, 11, 32], [2, 2, 32, 64], 1, 'valid'],
  ['net2 conv3 channels (64 → 128)', [1, 9, 11, 64], [2, 2, 64, 128], 1, 'valid'],
  ['Cout not a multiple of 4 (scalar tail)', [2, 9, 8, 5], [3, 3, 5, 7], 1, 'valid'],
  ['one input channel, same, stride 2, Cout 20 (16 + 4)', [2, 9, 8, 1], [3, 3, 1, 20], 2, 'same'],
  ['one input channel, explicit padding, stride [2, 1], Cout 4', [2, 7, 9, 1], [3, 2, 1, 4], [2, 1], [[0, 0], [2, 1], [1, 3], [0, 0]]],
  ['one input channel, 5×5 same on a 3×4 image (no interior column)', [1, 3, 4, 1], [5, 5, 1, 8], 1, 'same'],
  ['one input channel, Cout 6 (left to XNNPACK)', [2, 8, 7, 1], [3, 3, 1, 6], 1, 'valid'],
  ['one output channel, same (16 → 1: the input gradient of a first layer)', [2, 9, 8, 16], [3, 3, 16, 1], 1, 'same'],
  ['Cout 3, Cin 5 (scalar tail of the dot products), stride 2, valid', [2, 9, 7, 5], [3, 2, 5, 3], 2, 'valid'],
  ['Cout 2, Cin 1, same, stride [1, 2]', [2, 7, 9, 1], [3, 3, 1, 2], [1, 2], 'same'],
];

const rounded: Gen = (_, rng) => Math.round(2 * rng.uniform(-1, 1)); // many ties, zeros, negatives
const POOL_CASES: Array<[string, Gen, number[], number | [number, number], number | [number, number], 'valid' | 'same']> = [
  ['random, 2×2 / 2, valid', uniform, [2, 8, 6, 3], 2, 2, 'valid'],
  ['random, 2×2 / 2, odd size', uniform, [2, 9, 7, 5], 2, 2, 'valid'],
  ['ties (values in {−2 … 2}), 2×2 / 2', rounded, [2, 10, 10, 8], 2, 2, 'valid'],
  ['all negative', (_, rng) => -Math.abs(rng.uniform(-1, 1)) - 0.1, [2, 8, 8, 4], 2, 2, 'valid'],
  ['all zero (ReLU output of negatives)', () => 0, [2, 8, 8, 4], 2, 2, 'valid'],
  ['ReLU-like (half zeros)', (_, rng) => Math.max(0, rng.uniform(-1, 1)), [2, 9, 9, 6], 2, 2, 'valid'],
  ['ties, 3×3 / 2 overlapping windows', rounded, [2, 9, 8, 4], 3, 2, 'valid'],
  ['ties, 3×3 / 1, same padding', rounded, [1, 7, 6, 5], 3, 1, 'same'],
  ['random, 2×2 / 2, same padding, odd size', uniform, [2, 7, 9, 3], 2, 2, 'same'],
  ['random, [3, 2] / [2, 1]', uniform, [2, 9, 7, 4], [3, 2], [2, 1], 'valid'],
  ['net2 pool1 shapes', uniform, [2, 94, 94, 32], 2, 2, 'valid'],
  ['20 channels (16 + 4), 3×3 / 2, same padding', uniform, [2, 9, 8, 20], 3, 2, 'same'],
];

/** Values away from 0 (divisors): ±[0.5, 1.5]. */
const awayFromZero: Gen = (_, rng) => (rng.uniform(-1, 1) < 0 ? -1 : 1) * rng.uniform(0.5, 1.5);

/**
 * Operand shapes of Add/Sub/Multiply/RealDiv: batch-norm's at 64×96×96×16, odd sizes, both orders;
 * per-channel operands run natively, scalars and equal shapes on XNNPACK (checked all the same).
 */
const BINARY_CASES: Array<[string, number[], number[]]> = [
  ['[64, 96, 96, 16] and per-channel [16] (dy · scale)', [64, 96, 96, 16], [16]],
  ['[64, 96, 96, 16] and [1, 1, 1, 16] (x − mean)', [64, 96, 96, 16], [1, 1, 1, 16]],
  ['[64, 96, 96, 16] and a 0-d scalar (· 2, / P; XNNPACK)', [64, 96, 96, 16], []],
  ['[64, 96, 96, 16] and [64, 96, 96, 16] (XNNPACK)', [64, 96, 96, 16], [64, 96, 96, 16]],
  ['same shape, odd size [3, 5, 7, 6] (XNNPACK)', [3, 5, 7, 6], [3, 5, 7, 6]],
  ['per-channel first: [7] and [2, 3, 5, 7] (C % 4 ≠ 0)', [7], [2, 3, 5, 7]],
  ['[1, 1, 1, 6] first, [3, 5, 7, 6]', [1, 1, 1, 6], [3, 5, 7, 6]],
  ['[3, 5, 7, 6] and [1, 6]', [3, 5, 7, 6], [1, 6]],
  ['[9, 21] and [21] (16 + 4 + 1 channels)', [9, 21], [21]],
  ['scalar [1] first, [3, 5, 7, 6] (XNNPACK)', [1], [3, 5, 7, 6]],
  ['0-d scalar first, [5, 13] (XNNPACK)', [], [5, 13]],
  ['[5, 13] and a [1, 1] scalar (XNNPACK)', [5, 13], [1, 1]],
  ['one channel: [9, 1] and [1] (a scalar: XNNPACK)', [9, 1], [1]],
  ['left to tfjs: [3, 5, 7, 1] and [3, 5, 7, 6] (a broadcast of another axis)', [3, 5, 7, 1], [3, 5, 7, 6]],
  ['left to tfjs: [5, 1] and [1, 7] (neither has the output shape)', [5, 1], [1, 7]],
  ['left to tfjs: [6] and [2, 1, 6, 1]', [6], [2, 1, 6, 1]],
];

/** Tile inputs and reps: broadcasts (the batch-norm gradient's), fills, block repeats, odd sizes. */
const TILE_CASES: Array<[string, number[], number[]]> = [
  ['[1, 1, 1, 16] to [64, 96, 96, 16] (the stock batch-norm gradient)', [1, 1, 1, 16], [64, 96, 96, 1]],
  ['[1, 1, 1, 7] to [3, 5, 4, 7]', [1, 1, 1, 7], [3, 5, 4, 1]],
  ['[1, 21] to [13, 21]', [1, 21], [13, 1]],
  ['[3, 1] to [3, 9] (fills)', [3, 1], [1, 9]],
  ['[2, 3] repeated [2, 2]', [2, 3], [2, 2]],
  ['[2, 1, 3, 1] × [1, 4, 1, 5] (broadcasts of inner axes)', [2, 1, 3, 1], [1, 4, 1, 5]],
  ['[1, 5, 1, 300] × [2, 1, 3, 2] (long rows)', [1, 5, 1, 300], [2, 1, 3, 2]],
  ['[5] × [3] (rank 1)', [5], [3]],
  ['[3, 4, 5] × [1, 1, 1] (a copy)', [3, 4, 5], [1, 1, 1]],
  ['left to tfjs: [2, 1, 2, 1, 2] × [1, 2, 1, 2, 1] (5 axes after merging)', [2, 1, 2, 1, 2], [1, 2, 1, 2, 1]],
];

/**
 * Register the whole suite (kernels, gradients, layers models, net2 end to end) for a wasm
 * backend started with `threads` threads.
 */
export function defineGradientSuite(threads: number): void {
  beforeAll(async () => {
    await createWasmBackend({ threads }).init();
    expect(wasmBackendInfo()?.threads).toBe(threads);
  });

  describe(`Conv2D and its gradients (Conv2DBackpropInput / Conv2DBackpropFilter), ${threads} thread(s)`, () => {
    for (const [name, xs, fs, strides, pad] of CONV_CASES) {
      it(name, async () => {
        const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad);
        const inputs = [input(xs), input(fs)];
        const r = input(outShape(f, inputs));
        await expectSameAsCpu(inputs, (x, w) => [f(x, w), ...gradientsOf(f, r)(x, w)]);
      });
    }

    it('conv2dTranspose (Conv2DBackpropInput as a forward op), stride 2, same', async () => {
      const inputs = [input([2, 5, 4, 6]), input([3, 3, 3, 6])];
      await expectSameAsCpu(inputs, (dy, w) => [
        tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [2, 10, 8, 3], 2, 'same'),
      ]);
    });

    it('fused conv2d forward (inference): bias + ReLU, bias + linear, and an activation left to tfjs (elu)', async () => {
      const inputs = [input([2, 11, 9, 5]), input([3, 3, 5, 12]), input([12])];
      await expectSameAsCpu(inputs, (x, w, b) => {
        const conv = (activation: 'relu' | 'linear' | 'elu', pad: 'same' | 'valid', strides: number) =>
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides, pad, bias: b, activation });
        return [conv('relu', 'same', 1), conv('linear', 'valid', 2), conv('elu', 'same', 2), conv('relu', 'valid', 1)];
      });
    });

    it('fused conv2d of a one-channel input (first layers): bias + ReLU, no bias, linear, elu left to tfjs', async () => {
      const inputs = [input([3, 13, 12, 1]), input([3, 3, 1, 36]), input([36])];
      await expectSameAsCpu(inputs, (x, w, b) => {
        const conv = (activation: 'relu' | 'linear' | 'elu', pad: 'same' | 'valid', strides: number, bias?: tf.Tensor) =>
          tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides, pad, bias, activation });
        return [conv('relu', 'valid', 1, b), conv('relu', 'same', 2), conv('linear', 'same', 1, b), conv('elu', 'valid', 1, b)];
      });
    });

    it('fused conv2d with linear activation and bias (kernels called directly by the fused gradient)', async () => {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 'same', bias: b });
      const inputs = [input([2, 9, 8, 3]), input([3, 3, 3, 5]), input([5])];
      await expectSameAsCpu(inputs, gradientsOf(f, input(outShape(f, inputs))));
    });
  });

  describe(`MaxPool and its gradient (MaxPoolGrad, first maximum), ${threads} thread(s)`, () => {
    for (const [name, gen, shape, size, strides, pad] of POOL_CASES) {
      it(name, async () => {
        const f = (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, size, strides, pad);
        const inputs = [input(shape, gen)];
        const grads = gradientsOf(f, input(outShape(f, inputs)));
        await expectSameAsCpu(inputs, (x) => [f(x), ...grads(x)]);
      });
    }

    it('NaN never wins a window (the cpu rule), 5 and 19 channels', async () => {
      // one NaN in every other 2×2 window, never a whole window
      const withNaN: Gen = (i, rng) => (i % 7 === 3 ? Number.NaN : rng.uniform(-1, 1));
      for (const shape of [[2, 6, 8, 5], [1, 4, 6, 19]]) {
        const inputs = [input(shape, withNaN)];
        await expectSameAsCpu(inputs, (x) => [tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')]);
      }
    });
  });

  describe(`BatchMatMul, ${threads} thread(s)`, () => {
    const cases: Array<[number[], number[], boolean, boolean]> = [
      [[7, 5], [5, 3], false, false],
      [[5, 7], [5, 3], true, false],
      [[7, 5], [3, 5], false, true],
      [[5, 7], [3, 5], true, true],
      [[2, 7, 5], [2, 5, 3], false, false],
      [[2, 5, 7], [2, 5, 3], true, false],
      [[2, 7, 5], [2, 3, 5], false, true],
      [[2, 5, 7], [2, 3, 5], true, true],
      [[16, 300], [300, 40], false, false], // a dense layer: dx = dy·Wᵀ, dW = xᵀ·dy
    ];
    for (const [sa, sb, ta, tb] of cases) {
      it(`${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}: product and both gradients`, async () => {
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, ta, tb);
        const inputs = [input(sa), input(sb)];
        const r = input(outShape(f, inputs));
        await expectSameAsCpu(inputs, (a, b) => [f(a, b), ...gradientsOf(f, r)(a, b)]);
      });
    }
  });

  describe(`fused matMul (dense layers at inference), ${threads} thread(s)`, () => {
    it('bias + ReLU, bias + linear, no bias, transposed b, and an activation left to tfjs (elu)', async () => {
      const inputs = [input([33, 70]), input([70, 21]), input([21]), input([21, 70])];
      await expectSameAsCpu(inputs, (a, b, bias, bt) => [
        tf.fused.matMul({ a, b, bias, activation: 'relu' }),
        tf.fused.matMul({ a, b, bias }),
        tf.fused.matMul({ a, b, activation: 'relu' }),
        tf.fused.matMul({ a, b: bt, transposeB: true, bias, activation: 'relu' }),
        tf.fused.matMul({ a, b, bias, activation: 'elu' }),
      ]);
    });
  });

  describe(`bias Add (training's separate pass), ${threads} thread(s)`, () => {
    it('adds a bias over the last axis (and its gradients), leaves other adds to tfjs', async () => {
      const f = (x: tf.Tensor, b: tf.Tensor) => tf.relu(tf.add(x, b));
      const inputs = [input([3, 5, 7, 20]), input([20]), input([3, 5, 7, 1])];
      const grads = gradientsOf(f, input([3, 5, 7, 20]));
      await expectSameAsCpu(inputs, (x, b, y) => [
        tf.add(x, b),
        tf.add(b, x),
        tf.add(x, y),
        tf.add(x, x),
        tf.add(tf.reshape(x, [105, 20]), b),
        ...grads(x, b),
      ]);
    });
  });

  describe(`Sum, Cast, Identity, ${threads} thread(s)`, () => {
    it('sums over leading axes (bias gradients), with and without keepDims', async () => {
      await expectSameAsCpu([input([3, 9, 7, 37]), input([5, 12]), input([2, 3, 4, 5])], (a, b, c) => [
        tf.sum(a, [0, 1, 2]),
        tf.sum(a, [1, 0]),
        tf.sum(b, 0),
        tf.sum(c, [0, 1], true),
        tf.sum(c, [1, 2]), // not leading: the stock kernel
        tf.sum(c), // all axes: the stock kernel
      ]);
    });

    it('gathers rows (model.fit batches), int32 too, and leaves other gathers to tfjs', async () => {
      const idx = [3, 0, 3, 6, 1];
      await expectSameAsCpu([input([7, 5, 4, 2]), input([4, 9])], (x, y) => [
        tf.gather(x, idx),
        tf.gather(x, tf.tensor2d([[1, 2], [6, 0]], [2, 2], 'int32')),
        tf.gather(y, [2, 1], 1),
        tf.cast(tf.gather(tf.cast(tf.mul(x, 10), 'int32'), idx), 'float32'),
      ]);
    });

    it('slices contiguous blocks (model.predict batches) in the heap, int32 too, and leaves strided slices to tfjs', async () => {
      await expectSameAsCpu([input([7, 5, 4, 2]), input([4, 9])], (x, y) => [
        tf.slice(x, [2], [3]),
        tf.slice(x, [6, 0, 0, 0], [1, 5, 4, 2]),
        tf.slice(x, [3, 2], [1, 2]), // contiguous inside one row
        tf.slice(x, [0, 1], [7, 2]), // strided: the stock kernel
        tf.slice(y, [1, 3], [2, 4]), // strided
        tf.slice(x, [4], [0]), // empty
        tf.cast(tf.slice(tf.cast(tf.mul(x, 10), 'int32'), [1], [2]), 'float32'),
      ]);
    });

    it('sums a large bias gradient accurately (float64 accumulation)', async () => {
      await expectSameAsCpu([input([64, 94, 94, 8], (_, rng) => 1 + rng.uniform(-1, 1))], (a) => [tf.sum(a, [0, 1, 2])]);
    });

    it('casts to the same dtype and clones without copying, and values survive the source', async () => {
      await tf.setBackend('wasm');
      const x = tf.tensor([1.5, -2, 3]);
      const same = tf.cast(x, 'float32');
      const copy = tf.clone(x);
      const int = tf.cast(x, 'int32');
      x.dispose();
      expect(await same.array()).toEqual([1.5, -2, 3]);
      expect(await copy.array()).toEqual([1.5, -2, 3]);
      expect(await int.array()).toEqual([1, -2, 3]);
      tf.dispose([same, copy, int]);
    });
  });

  describe(`Add/Sub/Multiply/RealDiv with a per-channel operand (and scalars), ${threads} thread(s)`, () => {
    for (const [name, sa, sb] of BINARY_CASES) {
      it(name, async () => {
        const big = Math.max(sa.reduce((p, d) => p * d, 1), sb.reduce((p, d) => p * d, 1)) > 1e6;
        const inputs = [input(sa), input(sb, awayFromZero)];
        const ops = (a: tf.Tensor, b: tf.Tensor) => [tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b)];
        if (big) {
          await expectSameAsCpu(inputs, ops);
          return;
        }
        // and the gradients (Sum over the broadcast axes, Neg, Square, …) of all four
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.addN([tf.add(a, b), tf.mul(tf.sub(a, b), b), tf.div(a, b)]);
        const r = input(outShape(f, inputs));
        await expectSameAsCpu(inputs, (a, b) => [
          ...ops(a, b),
          tf.div(b, tf.add(tf.abs(a), 0.5)),
          ...gradientsOf(f, r)(a, b),
        ]);
      });
    }

    it('NaN, ±Infinity and ±0 operands give exactly the cpu backend values (one IEEE op per element)', async () => {
      const specials = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1e-40, 3e38];
      const special: Gen = (i, rng) => (i % 3 === 0 ? specials[rng.int(specials.length)] : rng.uniform(-1, 1));
      const inputs = [input([6, 10], special), input([10], special), input([6, 10], special), input([], special)];
      const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, s: tf.Tensor) =>
        [tf.add(a, b), tf.sub(b, a), tf.mul(b, a), tf.div(a, b), tf.div(b, a), tf.mul(a, c), tf.div(a, c), tf.div(s, a), tf.add(a, -0)];
      const want = await evaluate('cpu', inputs, f);
      const got = await evaluate('wasm', inputs, f);
      for (const [i, w] of want.entries()) {
        for (let j = 0; j < w.length; j++) {
          expect(Object.is(got[i][j], w[j]), `output ${i}[${j}]: wasm ${got[i][j]}, cpu ${w[j]} (seed ${SEED})`).toBe(true);
        }
      }
    });
  });

  describe(`Tile (broadcasts), ${threads} thread(s)`, () => {
    for (const [name, shape, reps] of TILE_CASES) {
      it(name, async () => {
        const inputs = [input(shape)];
        const f = (x: tf.Tensor) => tf.tile(x, reps);
        const size = shape.reduce((p, d) => p * d, 1) * reps.reduce((p, d) => p * d, 1);
        const broadcast = shape.every((d, i) => d === 1 || reps[i] === 1);
        const grads = shape.length <= 4 && size < 5000 ? gradientsOf(f, input(outShape(f, inputs))) : undefined;
        await expectSameAsCpu(inputs, (x) => [
          f(x),
          tf.cast(tf.tile(tf.cast(tf.mul(x, 100), 'int32'), reps), 'float32'), // int32
          ...(broadcast ? [tf.broadcastTo(x, shape.map((d, i) => d * reps[i]))] : []),
          ...(grads ? grads(x) : []),
        ]);
      });
    }
  });

  describe(`Mean over leading axes and its gradient, ${threads} thread(s)`, () => {
    it('[64, 96, 96, 16] over [0, 1, 2] (the batch moments), with its gradient', async () => {
      const f = (x: tf.Tensor) => tf.mean(x, [0, 1, 2]);
      const grads = gradientsOf(f, input([16]));
      await expectSameAsCpu([input([64, 96, 96, 16], (_, rng) => 1 + rng.uniform(-1, 1))], (x) => [f(x), ...grads(x)]);
    });

    it('odd sizes, keepDims, other axes (left to tfjs), and the gradients of all of them', async () => {
      const cases: Array<[number[], number[], boolean]> = [
        [[3, 5, 7, 6], [0, 1, 2], false],
        [[3, 5, 7, 6], [0, 1, 2], true],
        [[5, 13], [0], false],
        [[4, 9, 21], [1, 0], true],
        [[3, 5, 7, 6], [1, 2], false], // not leading: the stock kernel, our gradient
        [[3, 5, 7, 6], [0, 3], true],
        [[3, 5, 7, 6], [0, 1, 2, 3], false], // all axes: the stock kernel
      ];
      for (const [shape, axes, keepDims] of cases) {
        const f = (x: tf.Tensor) => tf.mean(x, axes, keepDims);
        const inputs = [input(shape)];
        const grads = gradientsOf(f, input(outShape(f, inputs)));
        await expectSameAsCpu(inputs, (x) => [f(x), tf.sum(x, axes, keepDims), ...grads(x)]);
      }
    });
  });

  describe(`batch normalization (FusedBatchNorm, its gradient, tf.moments), ${threads} thread(s)`, () => {
    const positive: Gen = (_, rng) => rng.uniform(0.2, 2);
    const cases: Array<[string, number[], number[], boolean, boolean]> = [
      ['[64, 96, 96, 16], per-channel [16] (the first block)', [64, 96, 96, 16], [16], true, true],
      ['[3, 5, 7, 6] (C % 4 ≠ 0), [1, 1, 1, 6] parameters', [3, 5, 7, 6], [1, 1, 1, 6], true, true],
      ['[2, 4, 3, 21], no offset (forward only: tfjs differentiates batchNorm only with both)', [2, 4, 3, 21], [21], false, true],
      ['[2, 4, 3, 5], no scale (forward only)', [2, 4, 3, 5], [5], true, false],
      ['rank 2 [11, 7] (a dense layer)', [11, 7], [7], true, true],
    ];
    for (const [name, xs, ps, withOffset, withScale] of cases) {
      it(`forward and every gradient: ${name}`, async () => {
        const inputs = [
          input(xs),
          input(ps),
          input(ps, positive),
          ...(withOffset ? [input(ps)] : []),
          ...(withScale ? [input(ps, positive)] : []),
        ];
        const f = (...ts: tf.Tensor[]) => {
          const [x, mean, variance] = ts;
          const offset = withOffset ? ts[3] : undefined;
          const scale = withScale ? ts[withOffset ? 4 : 3] : undefined;
          return tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
        };
        const r = input(xs);
        if (!withOffset || !withScale) {
          await expectSameAsCpu(inputs, (...ts) => [f(...ts)]);
          return;
        }
        if (ps.length > 1) {
          // tfjs's stock gradient sums the per-channel derivatives only for 1-D parameters: compare dx
          const dx = (x: tf.Tensor, ...params: tf.Tensor[]) => gradientsOf((x_: tf.Tensor) => f(x_, ...params), r)(x);
          await expectSameAsCpu(inputs, (x, ...params) => [f(x, ...params), ...dx(x, ...params)]);
          return;
        }
        await expectSameAsCpu(inputs, (...ts) => [f(...ts), ...gradientsOf(f, r)(...ts)]);
      });
    }

    for (const [name, shape] of [
      ['[8, 24, 24, 16]', [8, 24, 24, 16]],
      ['[3, 5, 7, 6] (C % 4 ≠ 0)', [3, 5, 7, 6]],
    ] as Array<[string, number[]]>) {
      it(`tf.moments + batchNorm as tf.layers trains it: gradients of x, gamma, beta, ${name}`, async () => {
        const C = shape[shape.length - 1];
        const f = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
          const { mean, variance } = tf.moments(x, [0, 1, 2]);
          return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
        };
        const inputs = [input(shape, (_, rng) => 0.5 + rng.uniform(-1, 1)), input([C], (_, rng) => rng.uniform(0.5, 1.5)), input([C])];
        const grads = gradientsOf(f, input(shape));
        await expectSameAsCpu(inputs, (x, g, b) => [f(x, g, b), ...grads(x, g, b)]);
      });
    }
  });

  describe(`tf.layers models end to end, ${threads} thread(s)`, () => {
    it('net2: every weight gradient of the MSE loss (96×96 input, batch 1)', async () => {
      await expectSameWeightGradients(net2, [1, 96, 96, 1]);
    });

    it('conv layers with linear activation, same padding and strides (the fused-conv path)', async () => {
      await expectSameWeightGradients(
        (m) => {
          m.add(tf.layers.conv2d({ inputShape: [17, 15, 2], filters: 6, kernelSize: 3, strides: 2, padding: 'same' }));
          m.add(tf.layers.conv2d({ filters: 5, kernelSize: [2, 3], strides: [2, 1], activation: 'relu' }));
          m.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
          m.add(tf.layers.flatten());
          m.add(tf.layers.dense({ units: 30 }));
        },
        [3, 17, 15, 2],
      );
    });

    it('conv + batch norm + ReLU + pool blocks (training mode): every weight gradient (kernels, gamma, beta, dense)', async () => {
      await expectSameWeightGradients(bnNet, [4, 20, 18, 1], true);
    });

    it('the batch-norm model predicts the same in inference mode (moving mean and variance)', async () => {
      await tf.setBackend('cpu');
      const model = tf.sequential();
      bnNet(model);
      // moving statistics away from their initial 0 / 1, positive variances
      const weights = model.getWeights().map((w, i) => {
        const name = model.weights[i].name;
        const gen: Gen = name.includes('moving_variance') ? (_, rng) => rng.uniform(0.2, 2) : uniform;
        return input(w.shape, gen);
      });
      model.dispose();
      await expectSameAsCpu([input([5, 20, 18, 1], (_, rng) => rng.uniform(0, 1)), ...weights], (x, ...ws) => {
        const m = tf.sequential();
        bnNet(m);
        m.setWeights(ws);
        const y = m.predict(x) as tf.Tensor;
        m.dispose();
        return [y];
      });
    });
  });
}

/** Two blocks of a bias-free 'same' conv, batch normalization over channels, ReLU and max pool; dense 30. */
export function bnNet(m: tf.Sequential): void {
  m.add(tf.layers.conv2d({ inputShape: [20, 18, 1], filters: 6, kernelSize: 3, padding: 'same', useBias: false }));
  m.add(tf.layers.batchNormalization({ axis: -1 }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false }));
  m.add(tf.layers.batchNormalization({ axis: -1 }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 30 }));
}

/** net2 (Nouri): conv32 3×3, pool, conv64 2×2, pool, conv128 2×2, pool, dense 500, 500, 30. */
export function net2(m: tf.Sequential): void {
  m.add(tf.layers.conv2d({ inputShape: [96, 96, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 2, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 128, kernelSize: 2, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 500, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 500, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 30 }));
}

/**
 * What decides where gradients flow in a forward pass: the ReLU masks (z > 0) and the first argmax
 * of every max-pool window, layer by layer, computed along `backend`'s own forward pass (as the
 * gradient pass computes it: conv/matMul, then bias add, then ReLU). Backends that round a value
 * differently by one ulp at a ReLU kink or a max-pool near-tie legitimately route a gradient
 * differently; such draws are not comparisons of kernels.
 */
async function routing(backend: string, build: (m: tf.Sequential) => void, weights: Input[], x: Input, training: boolean): Promise<Int32Array[]> {
  await tf.setBackend(backend);
  const out: Int32Array[] = [];
  tf.tidy(() => {
    const m = tf.sequential();
    build(m);
    m.setWeights(weights.map((w) => tf.tensor(w.values, w.shape)));
    let h = tf.tensor(x.values, x.shape);
    for (const layer of m.layers) {
      const config = layer.getConfig() as Record<string, unknown>;
      const name = layer.getClassName();
      if (name === 'Conv2D' || name === 'Dense') {
        const [kernel, bias] = layer.getWeights();
        let z =
          name === 'Conv2D'
            ? tf.conv2d(h as tf.Tensor4D, kernel as tf.Tensor4D, config.strides as [number, number], config.padding as 'valid' | 'same')
            : tf.matMul(h, kernel);
        if (bias !== undefined) z = tf.add(z, bias);
        if (config.activation === 'relu') {
          out.push(Int32Array.from(z.dataSync(), (v) => (v > 0 ? 1 : 0)));
          z = tf.relu(z);
        }
        h = z;
      } else if (name === 'MaxPooling2D') {
        const info = tf.backend_util.computePool2DInfo(
          h.shape as [number, number, number, number],
          config.poolSize as [number, number],
          config.strides as [number, number],
          1,
          config.padding as 'valid' | 'same',
        );
        out.push(firstArgmax(h.dataSync() as Float32Array, h.shape, info));
        h = layer.apply(h) as tf.Tensor;
      } else if (name === 'ReLU') {
        out.push(Int32Array.from(h.dataSync(), (v) => (v > 0 ? 1 : 0)));
        h = layer.apply(h) as tf.Tensor;
      } else {
        h = layer.apply(h, { training }) as tf.Tensor;
      }
    }
    m.dispose();
  });
  return out;
}

function firstArgmax(v: Float32Array, [N, H, W, C]: number[], info: tf.backend_util.Conv2DInfo): Int32Array {
  const { outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const at = new Int32Array(N * outHeight * outWidth * C).fill(-1);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++)
        for (let c = 0; c < C; c++, o++) {
          let best = Number.NEGATIVE_INFINITY;
          for (let kh = 0; kh < filterHeight; kh++)
            for (let kw = 0; kw < filterWidth; kw++) {
              const h = oh * strideHeight - padInfo.top + kh;
              const w = ow * strideWidth - padInfo.left + kw;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;
              const value = v[((n * H + h) * W + w) * C + c];
              if (value > best) {
                best = value;
                at[o] = kh * filterWidth + kw;
              }
            }
        }
  return at;
}

function sameRouting(a: Int32Array[], b: Int32Array[]): boolean {
  return a.length === b.length && a.every((x, i) => x.length === b[i].length && x.every((v, j) => v === b[i][j]));
}

/**
 * Build the model on cpu (fresh random weights), copy its weights to an identical model on wasm,
 * and compare the gradients of the MSE loss w.r.t. every trainable weight (inputs in [0, 1],
 * targets in [−1, 1]); `training`: layers run in training mode (batch normalization with the
 * batch's moments). Draws where the two backends' forward passes route gradients differently
 * (see {@link routing}) are replaced by fresh ones.
 */
async function expectSameWeightGradients(build: (m: tf.Sequential) => void, xShape: number[], training = false): Promise<void> {
  const maxDraws = 5;
  for (let draw = 1; ; draw++) {
    await tf.setBackend('cpu');
    const model = tf.sequential();
    build(model);
    const yShape = [xShape[0], ...(model.outputs[0].shape.slice(1) as number[])];
    const x = input(xShape, (_, rng) => rng.uniform(0, 1));
    const y = input(yShape);
    const weights = model.getWeights().map((w) => ({ shape: w.shape, values: Float32Array.from(w.dataSync()) }));
    const trainable = model.trainableWeights.map((w) => `${w.name} ${JSON.stringify(w.shape)}`); // not batch norm's moving statistics
    model.dispose();
    if (!sameRouting(await routing('cpu', build, weights, x, training), await routing('wasm', build, weights, x, training))) {
      expect(draw, `the forward passes of cpu and wasm routed gradients differently in ${maxDraws} fresh draws`).toBeLessThan(maxDraws);
      continue;
    }
    const run = (backend: string) =>
      evaluate(backend, [x, y, ...weights], (xt, yt, ...ws) => {
        const m = tf.sequential();
        build(m);
        m.setWeights(ws);
        const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
        const { grads } = tf.variableGrads(() => tf.losses.meanSquaredError(yt, m.apply(xt, { training }) as tf.Tensor) as tf.Scalar, vars);
        const out = vars.map((v) => tf.clone(grads[v.name]));
        tf.dispose(grads);
        m.dispose();
        return out;
      });
    const want = await run('cpu');
    const got = await run('wasm');
    expect(got.length).toBe(trainable.length);
    for (const [i, g] of got.entries()) {
      const e = maxRelError(g, want[i]);
      expect(e, `weight ${i} ${trainable[i]}: relative error ${e} (seed ${SEED}, draw ${draw})`).toBeLessThan(TOLERANCE);
    }
    return;
  }
}
