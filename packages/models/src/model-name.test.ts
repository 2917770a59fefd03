import { describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import { modelName } from './index.js';

describe('modelName', () => {
  it('names net1 like 1fc_b128_e400', () => {
    expect(modelName({ hiddenLayers: 1, batchSize: 128, epochs: 400 })).toBe('1fc_b128_e400');
    expect(modelName({ convLayers: 0, hiddenLayers: 1, batchSize: 36, epochs: 100 })).toBe('1fc_b36_e100');
  });

  it('adds conv layers and flags in a fixed order', () => {
    expect(
      modelName({
        dropout: true,
        momentumIncrease: true,
        lrDecay: true,
        augment: true,
        convLayers: 3,
        hiddenLayers: 2,
        batchSize: 128,
        epochs: 3000,
      }),
    ).toBe('3con_2fc_b128_e3000_aug_lrdec_mominc_dr');
    expect(modelName({ convLayers: 3, hiddenLayers: 2, batchSize: 128, epochs: 1000, augment: true })).toBe(
      '3con_2fc_b128_e1000_aug',
    );
    expect(modelName({ hiddenLayers: 2, batchSize: 1, epochs: 1, lrDecay: true, dropout: false })).toBe(
      '2fc_b1_e1_lrdec',
    );
  });

  it('rejects counts that are not integers in range', () => {
    expect(() => modelName({ hiddenLayers: 1, batchSize: 0, epochs: 1 })).toThrow(ConfigError);
    expect(() => modelName({ hiddenLayers: 1, batchSize: 128, epochs: 1.5 })).toThrow(
      'model name: epochs must be an integer ≥ 1, got 1.5',
    );
    expect(() => modelName({ hiddenLayers: -1, batchSize: 1, epochs: 1 })).toThrow(/hiddenLayers/);
    expect(() => modelName({ convLayers: Number.NaN, hiddenLayers: 1, batchSize: 1, epochs: 1 })).toThrow(/convLayers/);
  });
});
