import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend, defaultThreads, wasmBackendInfo } from './index.js';
import { net2 } from './testing/gradient-suite.js';

/**
 * A batch-normalized CNN: 2 blocks of a bias-free 'same' conv 3×3, batchNormalization (axis −1),
 * ReLU and max pool (16, 32 channels), dense 30: every batch-norm kernel and gradient of this
 * package in training, `model.predict` in inference mode.
 */
function bnNet(m: tf.Sequential): void {
  for (const [i, filters] of [16, 32].entries()) {
    m.add(tf.layers.conv2d({ ...(i === 0 ? { inputShape: [96, 96, 1] } : {}), filters, kernelSize: 3, padding: 'same', useBias: false }));
    m.add(tf.layers.batchNormalization({ axis: -1 }));
    m.add(tf.layers.reLU());
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 30 }));
}

/** net6 (Nouri): net2 with dropout 0.1 / 0.2 / 0.3 after the pools and 0.5 after the first dense layer. */
function net6(m: tf.Sequential): void {
  m.add(tf.layers.conv2d({ inputShape: [96, 96, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.1 }));
  m.add(tf.layers.conv2d({ filters: 64, kernelSize: 2, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.2 }));
  m.add(tf.layers.conv2d({ filters: 128, kernelSize: 2, activation: 'relu' }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.dropout({ rate: 0.3 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 500, activation: 'relu' }));
  m.add(tf.layers.dropout({ rate: 0.5 }));
  m.add(tf.layers.dense({ units: 500, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 30 }));
}

function compiled(build: (m: tf.Sequential) => void): tf.Sequential {
  const m = tf.sequential();
  build(m);
  // the batch-norm net's dense layer has 18 432 inputs: momentum 0.01 diverges on cpu and wasm alike
  const optimizer = build === bnNet ? tf.train.adam(1e-4) : tf.train.momentum(0.01, 0.9, true);
  m.compile({ optimizer, loss: 'meanSquaredError' });
  return m;
}

describe('training on the default wasm backend', () => {
  beforeAll(async () => {
    await createWasmBackend().init(); // defaults only: all cores, training kernels
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmBackendInfo()?.threads).toBe(defaultThreads());
  });

  for (const [name, build] of [['net2', net2], ['net6', net6], ['a batch-norm CNN', bnNet]] as const) {
    it(`${name} trains with model.fit (the loss falls on a fixed batch)`, async () => {
      const x = tf.randomUniform([8, 96, 96, 1], 0, 1, 'float32', 1);
      const y = tf.fill([8, 30], 0.3); // learnable in a few steps (the biases alone can fit it)
      const model = compiled(build);
      const history = await model.fit(x, y, { batchSize: 8, epochs: 25, shuffle: false, verbose: 0 });
      const loss = history.history.loss as number[];
      expect(loss.every(Number.isFinite)).toBe(true);
      expect(loss[loss.length - 1]).toBeLessThan(0.5 * loss[0]);
      model.dispose();
      tf.dispose([x, y]);
    });
  }

  for (const [name, build] of [['net2', net2], ['a batch-norm CNN', bnNet]] as const) {
    it(`${name}: keeps tf.memory().numTensors, the wasm heap and the process RSS flat across 50 training steps (and predictions)`, async () => {
      const x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 3);
      const y = tf.randomUniform([2, 30], -0.5, 0.5, 'float32', 4);
      const model = compiled(build);
      const heap = () => (tf.backend() as unknown as { wasm: { wasmMemory: { buffer: ArrayBufferLike } } }).wasm.wasmMemory.buffer.byteLength;
      const step = async () => {
        await model.trainOnBatch(x, y);
        tf.dispose(model.predict(x)); // inference mode (batch normalization with its moving statistics)
      };
      for (let i = 0; i < 20; i++) await step(); // warm-up: operators, heap growth, first touch
      const tensors = tf.memory().numTensors;
      const wasmHeap = heap();
      const rss = process.memoryUsage().rss;
      for (let i = 0; i < 50; i++) await step();
      expect(tf.memory().numTensors).toBe(tensors);
      expect(heap()).toBe(wasmHeap);
      const grownMiB = (process.memoryUsage().rss - rss) / 2 ** 20;
      expect(grownMiB, `RSS grew ${grownMiB.toFixed(1)} MiB in 50 steps`).toBeLessThan(16);
      model.dispose();
      tf.dispose([x, y]);
    });
  }
});
