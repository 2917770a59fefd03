import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import { MODEL_INPUT_SHAPE, buildFullyConnected } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

/** Bit-for-bit equality of two float arrays (fast for a million values). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('buildFullyConnected (net1)', () => {
  it('has 9216*100 + 100 + 100*30 + 30 parameters', () => {
    const model = buildFullyConnected({ seed: 1 });
    expect(model.countParams()).toBe(9216 * 100 + 100 + 100 * 30 + 30);
    expect(model.countParams()).toBe(924_730);
    model.dispose();
  });

  it('has the net1 layer configuration', () => {
    const model = buildFullyConnected({ seed: 7 });
    expect(model.name).toBe('net1');
    expect(MODEL_INPUT_SHAPE).toEqual([96, 96, 1]);
    expect(model.inputs[0].shape).toEqual([null, 96, 96, 1]);
    expect(model.outputs[0].shape).toEqual([null, 30]);
    expect(model.layers.map((l) => [l.name, l.getClassName()])).toEqual([
      ['flatten', 'Flatten'],
      ['hidden1', 'Dense'],
      ['output', 'Dense'],
    ]);
    const hidden = model.layers[1].getConfig();
    expect(hidden).toMatchObject({
      units: 100,
      activation: 'relu',
      useBias: true,
      // Glorot uniform, as tfjs serialises it
      kernelInitializer: {
        className: 'VarianceScaling',
        config: { scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: 7 },
      },
      biasInitializer: { className: 'Zeros' },
    });
    const output = model.layers[2].getConfig();
    expect(output).toMatchObject({
      units: 30,
      activation: 'linear',
      // Glorot uniform, as tfjs serialises it
      kernelInitializer: {
        className: 'VarianceScaling',
        config: { scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: 8 },
      },
      biasInitializer: { className: 'Zeros' },
    });
    model.dispose();
  });

  it('initialises Glorot-uniform kernels and zero biases', async () => {
    const model = buildFullyConnected({ seed: 3 });
    const [k1, b1, k2, b2] = await weightsOf(model);
    const limit1 = Math.sqrt(6 / (9216 + 100));
    const limit2 = Math.sqrt(6 / (100 + 30));
    const maxAbs = (values: Float32Array) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(k1).toHaveLength(9216 * 100);
    expect(maxAbs(k1)).toBeLessThanOrEqual(limit1);
    expect(maxAbs(k2)).toBeLessThanOrEqual(limit2);
    expect(maxAbs(k1)).toBeGreaterThan(0.99 * limit1); // spread over the whole range
    expect(b1.every((v) => v === 0)).toBe(true);
    expect(b2.every((v) => v === 0)).toBe(true);
    model.dispose();
  });

  it('gives identical weights for the same seed, different ones for another', async () => {
    const a = buildFullyConnected({ seed: 42 });
    const b = buildFullyConnected({ seed: 42 });
    const c = buildFullyConnected({ seed: 43 });
    const [wa, wb, wc] = await Promise.all([weightsOf(a), weightsOf(b), weightsOf(c)]);
    expect(wb).toHaveLength(4);
    wa.forEach((w, i) => expect(sameBits(wb[i], w)).toBe(true));
    expect(sameBits(wc[0], wa[0])).toBe(false);
    expect(sameBits(wc[2], wa[2])).toBe(false);
    // the two layers get different streams, not the same numbers rescaled
    const ratio = wa[2][0] / wa[0][0];
    expect(Array.from(wa[2].slice(1, 10), (v, i) => v / wa[0][i + 1])).not.toEqual(Array(9).fill(ratio));
    for (const model of [a, b, c]) model.dispose();
  });

  it('honours hidden and outputs, and maps [N, 96, 96, 1] to [N, outputs]', () => {
    const model = buildFullyConnected({ hidden: 8, outputs: 4, seed: 0, name: 'specialist' });
    expect(model.name).toBe('specialist');
    expect(model.countParams()).toBe(9216 * 8 + 8 + 8 * 4 + 4);
    const y = tf.tidy(() => model.predict(tf.zeros([2, 96, 96, 1])) as tf.Tensor);
    expect(y.shape).toEqual([2, 4]);
    y.dispose();
    model.dispose();
  });

  it('rejects invalid options with ConfigError', () => {
    expect(() => buildFullyConnected({ hidden: 0 })).toThrow(ConfigError);
    expect(() => buildFullyConnected({ hidden: 2.5 })).toThrow('fc builder: hidden must be a positive integer, got 2.5');
    expect(() => buildFullyConnected({ outputs: -1 })).toThrow('fc builder: outputs must be a positive integer, got -1');
    expect(() => buildFullyConnected({ seed: 0.5 })).toThrow('fc builder: seed must be an integer, got 0.5');
  });
});
