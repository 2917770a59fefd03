import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import { CNN_WEIGHT_LAYERS, NOURI_DROPOUT, buildCnn, cnnModelName, copyWeightsExceptOutput, modelName } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** `[name, class, output shape without the batch axis]` of every layer. */
function summary(model: tf.LayersModel): Array<[string, string, number[]]> {
  return model.layers.map((l) => [l.name, l.getClassName(), (l.outputShape as number[]).slice(1)]);
}

describe('buildCnn (net2 … net8)', () => {
  it('has the valid-convolution shapes 96→94→47→46→23→22→11 and a 15488-wide flatten', () => {
    const model = buildCnn({ seed: 1 });
    expect(model.name).toBe('cnn');
    expect(model.inputs[0].shape).toEqual([null, 96, 96, 1]);
    expect(summary(model)).toEqual([
      ['conv1', 'Conv2D', [94, 94, 32]],
      ['pool1', 'MaxPooling2D', [47, 47, 32]],
      ['conv2', 'Conv2D', [46, 46, 64]],
      ['pool2', 'MaxPooling2D', [23, 23, 64]],
      ['conv3', 'Conv2D', [22, 22, 128]],
      ['pool3', 'MaxPooling2D', [11, 11, 128]],
      ['flatten', 'Flatten', [15488]],
      ['hidden4', 'Dense', [500]],
      ['hidden5', 'Dense', [500]],
      ['output', 'Dense', [30]],
    ]);
    expect(11 * 11 * 128).toBe(15488);
    expect(model.layers[0].getConfig()).toMatchObject({
      filters: 32,
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: 'valid',
      activation: 'relu',
      kernelInitializer: { className: 'VarianceScaling', config: { scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: 1 } },
      biasInitializer: { className: 'Zeros' },
    });
    expect(model.getLayer('conv2').getConfig()).toMatchObject({ filters: 64, kernelSize: [2, 2], padding: 'valid' });
    expect(model.getLayer('conv3').getConfig()).toMatchObject({ filters: 128, kernelSize: [2, 2], padding: 'valid' });
    expect(model.getLayer('pool1').getConfig()).toMatchObject({ poolSize: [2, 2], strides: [2, 2] });
    expect(model.getLayer('hidden5').getConfig()).toMatchObject({ units: 500, activation: 'relu' });
    expect(model.getLayer('output').getConfig()).toMatchObject({
      units: 30,
      activation: 'linear',
      kernelInitializer: { config: { seed: 6 } },
    });
    model.dispose();
  });

  it('has 8 051 502 parameters for net2 (and 16 561 502 with 1000/1000)', () => {
    const net2 = buildCnn({ seed: 1 });
    const expected = 3 * 3 * 1 * 32 + 32 + (2 * 2 * 32 * 64 + 64) + (2 * 2 * 64 * 128 + 128) + (15488 * 500 + 500) + (500 * 500 + 500) + (500 * 30 + 30);
    expect(net2.countParams()).toBe(expected);
    expect(net2.countParams()).toBe(8_051_502);
    net2.dispose();
    const net7 = buildCnn({ dense: [1000, 1000], dropout: NOURI_DROPOUT, seed: 1 });
    expect(net7.countParams()).toBe(16_561_502);
    net7.dispose();
  });

  it("keeps the size through each convolution with padding 'same' (flatten 12·12·128)", () => {
    const model = buildCnn({ padding: 'same', seed: 1, outputs: 8 });
    expect(summary(model).map(([name, , shape]) => [name, shape])).toEqual([
      ['conv1', [96, 96, 32]],
      ['pool1', [48, 48, 32]],
      ['conv2', [48, 48, 64]],
      ['pool2', [24, 24, 64]],
      ['conv3', [24, 24, 128]],
      ['pool3', [12, 12, 128]],
      ['flatten', [18432]],
      ['hidden4', [500]],
      ['hidden5', [500]],
      ['output', [8]],
    ]);
    model.dispose();
  });

  it("adds dropout layers only when asked, with Nouri's rates and places", () => {
    const plain = buildCnn({ seed: 1 });
    expect(plain.layers.some((l) => l.getClassName() === 'KeypointsDropout')).toBe(false);
    plain.dispose();

    const net6 = buildCnn({ dropout: NOURI_DROPOUT, seed: 1 });
    expect(net6.layers.map((l) => l.name)).toEqual([
      'conv1', 'pool1', 'dropout1',
      'conv2', 'pool2', 'dropout2',
      'conv3', 'pool3', 'dropout3',
      'flatten', 'hidden4', 'dropout4', 'hidden5', 'output',
    ]);
    const rates = net6.layers.filter((l) => l.getClassName() === 'KeypointsDropout').map((l) => l.getConfig().rate);
    expect(rates).toEqual([0.1, 0.2, 0.3, 0.5]);
    expect(net6.countParams()).toBe(8_051_502); // dropout adds no weights
    net6.dispose();

    const partial = buildCnn({ dropout: { dense: 0.5, dense2: 0.25 }, seed: 1 });
    expect(partial.layers.filter((l) => l.getClassName() === 'KeypointsDropout').map((l) => [l.name, l.getConfig().rate])).toEqual([
      ['dropout4', 0.5],
      ['dropout5', 0.25],
    ]);
    expect(partial.layers.map((l) => l.name).slice(-3)).toEqual(['hidden5', 'dropout5', 'output']);
    partial.dispose();
  });

  it('gives identical weights for the same seed, other ones for another seed; zero biases', async () => {
    const a = buildCnn({ seed: 42 });
    const b = buildCnn({ seed: 42 });
    const c = buildCnn({ seed: 43 });
    const [wa, wb, wc] = await Promise.all([weightsOf(a), weightsOf(b), weightsOf(c)]);
    expect(wa).toHaveLength(12);
    wa.forEach((w, i) => expect(sameBits(wb[i], w)).toBe(true));
    for (let i = 0; i < 12; i += 2) expect(sameBits(wc[i], wa[i])).toBe(false);
    for (let i = 1; i < 12; i += 2) expect(wa[i].every((v) => v === 0)).toBe(true);
    // Glorot-uniform limit of conv1: sqrt(6 / (fanIn + fanOut)) = sqrt(6 / (9 + 288))
    const limit = Math.sqrt(6 / (3 * 3 * 1 + 3 * 3 * 32));
    expect(wa[0].reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeLessThanOrEqual(limit);
    for (const model of [a, b, c]) model.dispose();
  });

  it('maps [N, 96, 96, 1] to [N, 30] without leaking tensors', () => {
    const model = buildCnn({ dropout: NOURI_DROPOUT, seed: 3 });
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => model.predict(tf.randomUniform([3, 96, 96, 1], 0, 1, 'float32', 1)) as tf.Tensor);
    expect(y.shape).toEqual([3, 30]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('lets gradients reach every weight (batch of 2, training mode with dropout)', () => {
    const model = buildCnn({ dropout: NOURI_DROPOUT, seed: 5 });
    const x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 7);
    const y = tf.randomUniform([2, 30], -1, 1, 'float32', 8);
    const { value, grads } = tf.variableGrads(() =>
      tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    );
    const names = model.trainableWeights.map((w) => w.originalName);
    expect(names).toEqual(CNN_WEIGHT_LAYERS.flatMap((l) => [`${l}/kernel`, `${l}/bias`]));
    expect(Object.keys(grads)).toHaveLength(12);
    for (const [name, g] of Object.entries(grads)) {
      const maxAbs = g.abs().max().dataSync()[0];
      expect(maxAbs, name).toBeGreaterThan(0);
      expect(Number.isFinite(maxAbs), name).toBe(true);
    }
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
    // The cpu backend's convolution gradients at 96×96: ~13 s alone, but 110–150 s inside the full
    // suite on 2 cores (seen in CI runs), over the 120 s default.
  }, 300_000);

  it('rejects invalid options with ConfigError', () => {
    expect(() => buildCnn({ dense: [500, 0] })).toThrow('cnn builder: dense[1] must be a positive integer, got 0');
    expect(() => buildCnn({ dense: [500] as unknown as [number, number] })).toThrow(ConfigError);
    expect(() => buildCnn({ outputs: 1.5 })).toThrow('cnn builder: outputs must be a positive integer, got 1.5');
    expect(() => buildCnn({ padding: 'causal' as 'same' })).toThrow(/padding must be 'valid' or 'same'/);
    expect(() => buildCnn({ dropout: { dense: 1 } })).toThrow('cnn builder: dropout.dense must be a rate in [0, 1), got 1');
    expect(() => buildCnn({ dropout: { pool: [0.1, -0.2, 0.3] } })).toThrow(/dropout.pool\[1\]/);
    expect(() => buildCnn({ dropout: { pool: [0.1, 0.2] as unknown as [number, number, number] } })).toThrow(
      /dropout.pool must hold 3 rates/,
    );
    expect(() => buildCnn({ seed: 0.5 })).toThrow('cnn builder: seed must be an integer, got 0.5');
  });
});

describe('copyWeightsExceptOutput (supervised pre-training)', () => {
  it('copies every weighted layer but the output, by value', async () => {
    const full = buildCnn({ dense: [16, 8], seed: 10 });
    const specialist = buildCnn({ dense: [16, 8], outputs: 4, dropout: NOURI_DROPOUT, seed: 20, name: 'eye_center' });
    const outputBefore = await weightsOf(specialist).then((w) => w.slice(10));
    expect(copyWeightsExceptOutput(full, specialist)).toEqual(['conv1', 'conv2', 'conv3', 'hidden4', 'hidden5']);
    const [wf, ws] = await Promise.all([weightsOf(full), weightsOf(specialist)]);
    for (let i = 0; i < 10; i++) expect(sameBits(ws[i], wf[i])).toBe(true);
    expect(ws[10]).toHaveLength(8 * 4);
    expect(sameBits(ws[10], outputBefore[0])).toBe(true); // the output layer keeps its own weights
    expect(sameBits(ws[11], outputBefore[1])).toBe(true);

    // a copy, not a shared variable: changing or disposing the source leaves the target as it was
    full.getLayer('conv1').setWeights(full.getLayer('conv1').getWeights().map((w) => tf.zerosLike(w)));
    full.dispose();
    const after = await weightsOf(specialist);
    expect(sameBits(after[0], wf[0])).toBe(true);
    expect(after[0].some((v) => v !== 0)).toBe(true);
    specialist.dispose();
  });

  it('refuses models whose layers differ, and leaves the target unchanged', async () => {
    const a = buildCnn({ dense: [16, 8], seed: 1 });
    const b = buildCnn({ dense: [16, 9], seed: 2 });
    const before = await weightsOf(b);
    expect(() => copyWeightsExceptOutput(a, b)).toThrow(
      "copyWeightsExceptOutput: layer 'hidden5' has weights [[16,9], [9]] in model 'cnn' but [[16,8], [8]] in model 'cnn'",
    );
    const after = await weightsOf(b);
    before.forEach((w, i) => expect(sameBits(after[i], w)).toBe(true)); // conv1…hidden4 were not written
    const same = buildCnn({ dense: [16, 8], padding: 'same', seed: 3 });
    expect(() => copyWeightsExceptOutput(same, a)).toThrow(/layer 'hidden4'.*same padding and dense sizes/);
    const fc = tf.sequential({ name: 'fc', layers: [tf.layers.dense({ name: 'output', units: 2, inputShape: [3] })] });
    expect(() => copyWeightsExceptOutput(fc, a)).toThrow(/layer 'conv1' of model 'cnn' has no layer of that name in model 'fc'/);
    for (const m of [a, b, same, fc]) m.dispose();
  });
});

describe('cnnModelName', () => {
  it('names CNN runs 3con_2fc_… through modelName', () => {
    const run = { batchSize: 128, epochs: 1000, augment: true, lrDecay: true, momentumIncrease: true };
    expect(cnnModelName({ dropout: NOURI_DROPOUT }, run)).toBe('3con_2fc_b128_e1000_aug_lrdec_mominc_dr');
    expect(cnnModelName({}, { batchSize: 128, epochs: 1000 })).toBe('3con_2fc_b128_e1000');
    expect(cnnModelName({ dropout: { pool: [0, 0, 0], dense: 0 } }, run)).toBe('3con_2fc_b128_e1000_aug_lrdec_mominc');
    expect(cnnModelName({}, run)).toBe(modelName({ convLayers: 3, hiddenLayers: 2, ...run }));
    expect(() => cnnModelName({}, { batchSize: 0, epochs: 1 })).toThrow(ConfigError);
  });
});
