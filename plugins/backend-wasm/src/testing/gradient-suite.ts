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
  });
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
async function routing(backend: string, build: (m: tf.Sequential) => void, weights: Input[], x: Input): Promise<Int32Array[]> {
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
      } else {
        h = layer.apply(h) as tf.Tensor;
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
 * targets in [−1, 1]). Draws where the two backends' forward passes route gradients differently
 * (see {@link routing}) are replaced by fresh ones.
 */
async function expectSameWeightGradients(build: (m: tf.Sequential) => void, xShape: number[]): Promise<void> {
  const maxDraws = 5;
  for (let draw = 1; ; draw++) {
    await tf.setBackend('cpu');
    const model = tf.sequential();
    build(model);
    const yShape = [xShape[0], ...(model.outputs[0].shape.slice(1) as number[])];
    const x = input(xShape, (_, rng) => rng.uniform(0, 1));
    const y = input(yShape);
    const weights = model.getWeights().map((w) => ({ shape: w.shape, values: Float32Array.from(w.dataSync()) }));
    model.dispose();
    if (!sameRouting(await routing('cpu', build, weights, x), await routing('wasm', build, weights, x))) {
      expect(draw, `the forward passes of cpu and wasm routed gradients differently in ${maxDraws} fresh draws`).toBeLessThan(maxDraws);
      continue;
    }
    const run = (backend: string) =>
      evaluate(backend, [x, y, ...weights], (xt, yt, ...ws) => {
        const m = tf.sequential();
        build(m);
        m.setWeights(ws);
        const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
        const { grads } = tf.variableGrads(() => tf.losses.meanSquaredError(yt, m.apply(xt) as tf.Tensor) as tf.Scalar, vars);
        const out = vars.map((v) => tf.clone(grads[v.name]));
        tf.dispose(grads);
        m.dispose();
        return out;
      });
    const want = await run('cpu');
    const got = await run('wasm');
    expect(got.length).toBe(weights.length);
    for (const [i, g] of got.entries()) {
      const e = maxRelError(g, want[i]);
      expect(e, `weight ${i} ${JSON.stringify(weights[i].shape)}: relative error ${e} (seed ${SEED}, draw ${draw})`).toBeLessThan(TOLERANCE);
    }
    return;
  }
}
