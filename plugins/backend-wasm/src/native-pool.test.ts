import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from './index.js';
import { activeNativeKernels } from './native/active.js';

// Separate file: the last test kills a worker thread, which leaves this process's pool unusable.
describe('native kernel thread pool', () => {
  it('gives the same ReLU gradient as the cpu formula over many small calls, whoever runs each share', async () => {
    await createWasmBackend({ threads: 2 }).init();
    const kernels = activeNativeKernels();
    expect(kernels.threads).toBe(2);
    const x = tf.randomNormal([257, 33], 0, 1, 'float32', 7);
    const dy = tf.randomNormal([257, 33], 0, 1, 'float32', 8);
    const xs = await x.data();
    const dys = await dy.data();
    const want = Float32Array.from(dys, (g, i) => (xs[i] > 0 ? g : 0));
    for (let i = 0; i < 300; i++) {
      const got = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.relu(t).mul(dy).sum())(x));
      expect(Array.from(await got.data(), (v) => v + 0)).toEqual(Array.from(want));
      got.dispose();
    }
    x.dispose();
    dy.dispose();
  });

  it('reports a dead worker thread at once instead of waiting for it', async () => {
    const kernels = activeNativeKernels();
    const worker = (kernels as unknown as { workers: Array<import('node:worker_threads').Worker> }).workers[0];
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      void worker.terminate();
    });
    const x = tf.tensor2d([[1, -1]]);
    const t0 = performance.now();
    expect(() => tf.grad((t: tf.Tensor) => tf.relu(t).sum())(x)).toThrow(/worker thread 1 exited.*restart the process/);
    expect(performance.now() - t0).toBeLessThan(5000);
    x.dispose();
  });
});
