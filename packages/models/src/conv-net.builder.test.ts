import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import { buildConvNet, copyWeightsExceptOutput } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('buildConvNet (the modern CNN)', () => {
  it('defaults: four blocks 16/32/64/128 of conv + batch norm + ReLU + pool, 6·6·128 → 256 → 30; 1 285 486 weights', () => {
    const m = buildConvNet({ seed: 1 });
    expect(m.layers.map((l) => l.name)).toEqual([
      ...[1, 2, 3, 4].flatMap((b) => [`conv${b}_1`, `bn${b}_1`, `relu${b}_1`, `pool${b}`]),
      'flatten',
      'hidden',
      'output',
    ]);
    expect(m.getLayer('flatten').outputShape).toEqual([null, 6 * 6 * 128]);
    // convs (no bias): 9·(1·16 + 16·32 + 32·64 + 64·128); BN: 4 per channel; dense 4608·256+256; output 256·30+30.
    const convs = 9 * (16 + 16 * 32 + 32 * 64 + 64 * 128);
    const bn = 4 * (16 + 32 + 64 + 128);
    expect(m.countParams()).toBe(convs + bn + 4608 * 256 + 256 + 256 * 30 + 30);
    expect(m.countParams()).toBe(1_285_486);
    const y = m.predict(tf.zeros([2, 96, 96, 1])) as tf.Tensor;
    expect(y.shape).toEqual([2, 30]);
    y.dispose();
    m.dispose();
  });

  it('two convolutions per block, no batch norm (biases back), dropout, specialist outputs; same seed → same weights', () => {
    const a = buildConvNet({ filters: [8, 8], convsPerBlock: 2, batchNorm: false, dense: 16, dropout: 0.5, outputs: 4, seed: 3 });
    expect(a.layers.map((l) => l.name)).toEqual(['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2', 'pool1', 'conv2_1', 'relu2_1', 'conv2_2', 'relu2_2', 'pool2', 'flatten', 'hidden', 'dropout', 'output']);
    expect(a.getLayer('conv1_1').getWeights()).toHaveLength(2);
    const b = buildConvNet({ filters: [8, 8], convsPerBlock: 2, batchNorm: false, dense: 16, dropout: 0.5, outputs: 4, seed: 3 });
    expect(Array.from(a.getLayer('conv2_2').getWeights()[0]!.dataSync())).toEqual(Array.from(b.getLayer('conv2_2').getWeights()[0]!.dataSync()));
    // Supervised pre-training between two such nets: everything but the output.
    const full = buildConvNet({ filters: [8, 8], convsPerBlock: 2, batchNorm: false, dense: 16, seed: 9 });
    expect(copyWeightsExceptOutput(full, a)).toEqual(['conv1_1', 'conv1_2', 'conv2_1', 'conv2_2', 'hidden']);
    [a, b, full].forEach((m) => m.dispose());
  });

  it('refuses bad settings with a ConfigError naming the field', () => {
    expect(() => buildConvNet({ filters: [] })).toThrow(/filters must list 1 to 6/);
    expect(() => buildConvNet({ filters: [1, 2, 3, 4, 5, 6, 7] })).toThrow(ConfigError);
    expect(() => buildConvNet({ filters: [16, 0] })).toThrow(/filters\[1\]/);
    expect(() => buildConvNet({ convsPerBlock: 0 })).toThrow(/convsPerBlock/);
    expect(() => buildConvNet({ dropout: 1 })).toThrow(/dropout/);
    expect(() => buildConvNet({ seed: 0.5 })).toThrow(/seed/);
  });
});
