import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@keypoints/core';
import { loadModel } from '@keypoints/models';
import { MODEL_PRESETS, RECOMMENDED_PRESET, buildModel, describeModel, readRunConfig, resolveTrainConfig, trainRun } from './index.js';

describe('the modern presets (conv4, conv4x2) and the recommended alias', () => {
  it("'recommended' resolves to RECOMMENDED_PRESET with that preset's settings; explicit fields still win", () => {
    const r = resolveTrainConfig({ model: 'recommended' });
    expect(r.success && r.data.model).toBe(RECOMMENDED_PRESET);
    expect(r.success && r.data).toMatchObject({ optimizer: 'adamw', loss: 'wing', flip: true, affine: true, photometric: true, convNet: { batchNorm: false } });
    const bn = resolveTrainConfig({ model: 'conv4bn' });
    expect(bn.success && bn.data.convNet).toMatchObject({ batchNorm: true });
    const model = buildModel(bn.success ? bn.data : (undefined as never));
    expect(model.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(4);
    model.dispose();
    const s = resolveTrainConfig({ model: 'recommended', loss: 'mse', epochs: 3 });
    expect(s.success && [s.data.loss, s.data.epochs]).toEqual(['mse', 3]);
    expect(MODEL_PRESETS[RECOMMENDED_PRESET].convNet).toBeDefined();
  });

  it('refuses settings that contradict each other, naming the field', () => {
    const issues = (input: Parameters<typeof resolveTrainConfig>[0]) => {
      const r = resolveTrainConfig(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ model: 'conv4', momentumSchedule: { start: 0.9, stop: 0.99 } })).toEqual([
      "momentumSchedule: a momentum schedule needs optimizer 'nesterov' (Adam's β1 is fixed), got 'adamw'",
    ]);
    expect(issues({ model: 'net2', weightDecay: 1e-4 })[0]).toMatch(/^weightDecay: weight decay is AdamW's/);
    expect(issues({ model: 'net1', convNet: { filters: [8] } })[0]).toMatch(/^convNet: net1 is the fully connected net/);
    expect(issues({ model: 'conv4', learningRateSchedule: { shape: 'cosine', start: 0.01, stop: 0.001, warmup: 1.5 } as never })).not.toEqual([]);
  });

  it('conv4 trains on the embedded sample through trainRun (AdamW, cosine, Wing loss, flip + affine + photometric) and saves a model that reloads', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'kp-conv4-')), 'conv4');
    const { runDir, metrics } = await trainRun(
      { model: 'recommended', maxRows: 96, epochs: 3, backend: 'wasm', out },
      { progress: false, logger: silentLogger },
    );
    const config = await readRunConfig(runDir);
    expect(config).toMatchObject({ model: 'conv4', optimizer: 'adamw', loss: 'wing', batchSize: 64 });
    expect(describeModel(config)).toBe('4con_1fc_b64_e3_aug_lrdec_adamw_wing');
    const history = JSON.parse(await readFile(join(runDir, 'history.json'), 'utf8')) as Array<{ learningRate: number; validRmsePx: number }>;
    expect(history).toHaveLength(3);
    // Warm-up of 2 epochs to the peak 2e-3, then the cosine's end (1e-5) at the last epoch.
    expect(history.map((h) => h.learningRate)).toEqual([1e-3, 2e-3, 1e-5]);
    expect(history.every((h) => Number.isFinite(h.validRmsePx))).toBe(true);
    const model = await loadModel(join(runDir, 'model'));
    expect(model.layers.map((l) => l.getClassName())).toContain('Conv2D');
    expect(model.outputs[0]!.shape).toEqual([null, 30]);
    expect(metrics.validRmsePx).toBeGreaterThan(0);
    model.dispose();
  }, 120_000);
});
