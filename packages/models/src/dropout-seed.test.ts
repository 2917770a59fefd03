import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { KeypointsDropout, reseedDropout } from './dropout.layer.js';
import { buildCnn, NOURI_DROPOUT } from './cnn.builder.js';

/** The mask a layer applies to a batch of ones (training mode). */
function mask(layer: KeypointsDropout, size = 256): Float32Array {
  return tf.tidy(() => (layer.apply(tf.ones([1, size]), { training: true }) as tf.Tensor).dataSync() as Float32Array);
}

describe('KeypointsDropout with a seed', () => {
  it('draws the same masks for the same seed and layer name, different ones for another seed or layer, a new one each step', () => {
    const a = new KeypointsDropout({ name: 'dropout1', rate: 0.5, seed: 42 });
    const b = new KeypointsDropout({ name: 'dropout1', rate: 0.5, seed: 42 });
    const a1 = mask(a);
    expect(mask(b)).toEqual(a1);
    const a2 = mask(a);
    expect(a2).not.toEqual(a1); // a new mask at every step
    expect(mask(b)).toEqual(a2);
    expect(mask(new KeypointsDropout({ name: 'dropout1', rate: 0.5, seed: 43 }))).not.toEqual(a1);
    expect(mask(new KeypointsDropout({ name: 'dropout2', rate: 0.5, seed: 42 }))).not.toEqual(a1);
    // About half the units dropped, the others scaled by 1 / (1 - rate).
    const kept = a1.filter((v) => v !== 0);
    expect(kept.every((v) => v === 2)).toBe(true);
    expect(kept.length).toBeGreaterThan(96);
    expect(kept.length).toBeLessThan(160);
  });

  it('reseed(epoch) restarts the stream: the masks of an epoch do not depend on what ran before', () => {
    const a = new KeypointsDropout({ name: 'dropout4', rate: 0.3, seed: 7 });
    const b = new KeypointsDropout({ name: 'dropout4', rate: 0.3, seed: 7 });
    a.reseed(3);
    const epoch3 = [mask(a), mask(a)];
    for (let i = 0; i < 5; i++) mask(b); // b has drawn other masks first (e.g. before a restart)
    b.reseed(3);
    expect([mask(b), mask(b)]).toEqual(epoch3);
    a.reseed(4);
    expect(mask(a)).not.toEqual(epoch3[0]);
  });

  it('keeps its seed through the layer config (a saved and reloaded model), and buildCnn seeds its dropout layers', () => {
    const model = buildCnn({ dropout: NOURI_DROPOUT, seed: 11, dense: [8, 8], outputs: 2 });
    const layers = model.layers.filter((l): l is KeypointsDropout => l instanceof KeypointsDropout);
    expect(layers.map((l) => l.seed)).toEqual([11, 11, 11, 11]);
    expect(reseedDropout(model, 0)).toBe(4);
    const copy = KeypointsDropout.fromConfig(KeypointsDropout, layers[0].getConfig()) as KeypointsDropout;
    expect(copy.seed).toBe(11);
    layers[0].reseed(2);
    copy.reseed(2);
    expect(mask(copy)).toEqual(mask(layers[0]));
    model.dispose();
  });

  it('rejects a non-integer seed; unseeded layers still work', () => {
    expect(() => new KeypointsDropout({ rate: 0.5, seed: 1.5 })).toThrow(/seed must be an integer/);
    const u = new KeypointsDropout({ rate: 0.5 });
    expect(u.seed).toBeUndefined();
    expect(u.getConfig().seed).toBeUndefined();
    expect(mask(u).length).toBe(256);
  });
});
