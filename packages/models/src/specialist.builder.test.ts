import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import { buildCnn, buildSpecialist, specialistMaxEpochs } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const small = { padding: 'same', dense: [8, 8] } as const;

describe('buildSpecialist (Nouri 2014 specialists)', () => {
  it('sizes the output to the group and names the model after it', () => {
    for (const set of SPECIALIST_KEYPOINT_SETS) {
      const { model, copiedLayers } = buildSpecialist(set, { cnn: small });
      expect(model.name).toBe(set.name);
      expect(model.outputs[0].shape).toEqual([null, set.columns.length]);
      expect(copiedLayers).toEqual([]);
      model.dispose();
    }
  });

  it('copies every weighted layer but the output from the pre-trained CNN', async () => {
    const full = buildCnn({ ...small, seed: 3 });
    const eyes = SPECIALIST_KEYPOINT_SETS[0];
    const { model, copiedLayers } = buildSpecialist(eyes, { cnn: { ...small, seed: 99 }, pretrained: full });
    expect(copiedLayers).toEqual(['conv1', 'conv2', 'conv3', 'hidden4', 'hidden5']);
    for (const name of copiedLayers) {
      const a = await full.getLayer(name).getWeights()[0].data();
      const b = await model.getLayer(name).getWeights()[0].data();
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    expect(model.getLayer('output').getWeights()[0].shape).toEqual([8, 4]);
    full.dispose();
    model.dispose();
  });

  it('refuses a pre-trained CNN of another shape, naming the layer', () => {
    const full = buildCnn({ padding: 'same', dense: [16, 8] });
    expect(() => buildSpecialist(SPECIALIST_KEYPOINT_SETS[1], { cnn: small, pretrained: full })).toThrow(/hidden4/);
    expect(() => buildSpecialist(SPECIALIST_KEYPOINT_SETS[1], { cnn: small, pretrained: full })).toThrow(ConfigError);
    full.dispose();
  });
});

describe('specialistMaxEpochs (kfkd.py int(4e6 / rows))', () => {
  it('gives kfkd.py’s budgets for the Kaggle row counts', () => {
    expect(specialistMaxEpochs(7033)).toBe(569);
    expect(specialistMaxEpochs(2260)).toBe(1770);
    expect(specialistMaxEpochs(2140)).toBe(1869);
    expect(() => specialistMaxEpochs(0)).toThrow(ConfigError);
  });
});
