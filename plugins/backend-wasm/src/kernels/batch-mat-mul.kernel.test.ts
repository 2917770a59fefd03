import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '@keypoints/core';
import { createWasmBackend } from '../index.js';

function rand(shape: number[], seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
}

async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-12);
}

beforeAll(async () => {
  await createWasmBackend().init();
});

describe('wasm BatchMatMul with transposed operands', () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[7, 5], [5, 3], false, false],
    [[5, 7], [5, 3], true, false],
    [[7, 5], [3, 5], false, true],
    [[5, 7], [3, 5], true, true],
    [[2, 5, 7], [2, 3, 5], true, true],
    [[3, 4, 6], [3, 4, 2], true, false],
    [[128, 300], [128, 100], true, false], // a dense layer's dW = xᵀ·dy
  ];
  for (const [sa, sb, ta, tb] of cases) {
    it(`matches the cpu backend for ${JSON.stringify(sa)}${ta ? 'ᵀ' : ''} × ${JSON.stringify(sb)}${tb ? 'ᵀ' : ''}`, async () => {
      const a = rand(sa, 1);
      const b = rand(sb, 2);
      const run = () => tf.tidy(() => tf.matMul(tf.tensor(a, sa), tf.tensor(b, sb), ta, tb).dataSync() as Float32Array);
      const before = tf.memory().numTensors;
      const got = await on('wasm', run);
      expect(tf.memory().numTensors).toBe(before);
      const want = await on('cpu', run);
      expect(got.length).toBe(want.length);
      expect(maxRelError(got, want)).toBeLessThan(1e-5);
    });
  }

  it('gives the same dense-layer weight gradients as the cpu backend', async () => {
    const x = rand([16, 40], 3);
    const w = rand([40, 8], 4);
    const grads = () =>
      tf.tidy(() => {
        const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.relu(tf.matMul(xx, ww)).square().sum());
        return g([tf.tensor(x, [16, 40]), tf.tensor(w, [40, 8])]).map((t) => t.dataSync() as Float32Array);
      });
    const got = await on('wasm', grads);
    const want = await on('cpu', grads);
    expect(maxRelError(got[0], want[0])).toBeLessThan(1e-5);
    expect(maxRelError(got[1], want[1])).toBeLessThan(1e-5);
  });

  it('is installed by default and skipped with trainingKernels: false', async () => {
    const k = tf.getKernel('BatchMatMul', 'wasm') as unknown as Record<symbol, boolean>;
    expect(k[Symbol.for('keypoints.wasm.transposedBatchMatMul')]).toBe(true);
  });
});
