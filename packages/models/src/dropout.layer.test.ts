import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import { KeypointsDropout, NOURI_DROPOUT, buildCnn, dropoutMultiplier, loadModel, saveModel } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('KeypointsDropout (inverted dropout, Nouri 2014 net6+)', () => {
  it('drops a fraction `rate` of the units and scales the rest by 1 / (1 − rate)', () => {
    for (const rate of [0.1, 0.5]) {
      const m = dropoutMultiplier(1_000_000, rate);
      const zeros = m.filter((v) => v === 0).length / m.length;
      expect(zeros).toBeGreaterThan(rate - 0.003);
      expect(zeros).toBeLessThan(rate + 0.003);
      expect(new Set(m.filter((v) => v !== 0))).toEqual(new Set([Math.fround(1 / (1 - rate))]));
      expect(m.reduce((a, b) => a + b, 0) / m.length).toBeCloseTo(1, 2);
    }
    // A new mask every call.
    expect(Array.from(dropoutMultiplier(64, 0.5))).not.toEqual(Array.from(dropoutMultiplier(64, 0.5)));
  });

  it('is the identity at inference and x · mask in training, with the gradient through the same mask', () => {
    const layer = new KeypointsDropout({ rate: 0.3 });
    const x = tf.randomUniform([4, 50], 0.5, 1.5, 'float32', 3);
    expect(Array.from((layer.apply(x, { training: false }) as tf.Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const ratio = Array.from(tf.div(y, x).dataSync());
    const scale = Math.fround(1 / 0.7);
    expect(ratio.every((r) => r === 0 || Math.abs(r - scale) < 1e-5)).toBe(true);
    expect(ratio.filter((r) => r === 0).length).toBeGreaterThan(20);
    const dx = tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(x);
    const g = Array.from(dx.dataSync());
    expect(g.every((v) => v === 0 || Math.abs(v - scale) < 1e-5)).toBe(true);
    expect(() => new KeypointsDropout({ rate: 1 })).toThrow(ConfigError);
  });

  it('round-trips through saveModel({ portable: false }) / loadModel as KeypointsDropout with its rates and seed', async () => {
    const net = buildCnn({ dense: [8, 8], padding: 'same', dropout: NOURI_DROPOUT, seed: 1 });
    const dir = join(await mkdtemp(join(tmpdir(), 'kp-dropout-')), 'model');
    await saveModel(net, dir, { portable: false });
    const back = await loadModel(dir);
    const rates = (m: tf.LayersModel) => m.layers.filter((l) => l instanceof KeypointsDropout).map((l) => [l.name, (l as KeypointsDropout).rate, (l as KeypointsDropout).seed]);
    expect(rates(back)).toEqual([['dropout1', 0.1, 1], ['dropout2', 0.2, 1], ['dropout3', 0.3, 1], ['dropout4', 0.5, 1]]);
    const x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 5);
    expect(Array.from((back.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((net.predict(x) as tf.Tensor).dataSync()));
    net.dispose();
    back.dispose();
  });

  it('is saved as the standard Dropout by default (portable), with the same names and rates and the same predictions', async () => {
    const net = buildCnn({ dense: [8, 8], padding: 'same', dropout: NOURI_DROPOUT, seed: 1 });
    const dir = join(await mkdtemp(join(tmpdir(), 'kp-dropout-')), 'model');
    await saveModel(net, dir);
    const back = await loadModel(dir);
    expect(back.layers.some((l) => l instanceof KeypointsDropout)).toBe(false);
    const dropouts = back.layers.filter((l) => l.getClassName() === 'Dropout').map((l) => [l.name, l.getConfig().rate, l.getConfig().seed]);
    expect(dropouts).toEqual([['dropout1', 0.1, undefined], ['dropout2', 0.2, undefined], ['dropout3', 0.3, undefined], ['dropout4', 0.5, undefined]]);
    const x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 5);
    expect(Array.from((back.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((net.predict(x) as tf.Tensor).dataSync()));
    net.dispose();
    back.dispose();
  });
});
