import { describe, expect, it } from 'vitest';
import { resolveTrainConfig, type NewRunConfig, type TrainConfigInput } from '@keypoints/pipeline';
import { ABLATION_ROWS, ablationTable } from './ablation.js';

function resolved(input: NewRunConfig) {
  const r = resolveTrainConfig({ ...input, name: 'row' } as TrainConfigInput);
  if (!r.success) throw r.error;
  return r.data;
}

describe('ablation rows', () => {
  it('the `augment` row is the conv4 preset spelt out, and `bn` is conv4 plus batch norm', () => {
    const row = (name: string) => ABLATION_ROWS.find((r) => r.name === name)!.config;
    expect(resolved(row('augment'))).toEqual(resolved({ model: 'conv4' }));
    const bn = resolved(row('bn'));
    const conv4 = resolved({ model: 'conv4' });
    expect({ ...bn, model: 'conv4', convNet: { ...bn.convNet, batchNorm: false } }).toEqual(conv4);
    expect(bn.convNet?.batchNorm).toBe(true);
  });

  it('each ladder row adds one ingredient to the row before it', () => {
    const [net5, arch, adamw, wing, augment] = ['net5', 'arch', 'adamw', 'wing', 'augment'].map((n) => resolved(ABLATION_ROWS.find((r) => r.name === n)!.config));
    expect(net5.convNet).toBeUndefined();
    expect(arch.convNet).toMatchObject({ filters: [16, 32, 64, 128], batchNorm: false });
    expect(arch).toMatchObject({ optimizer: net5.optimizer, loss: net5.loss, batchSize: net5.batchSize, learningRateSchedule: net5.learningRateSchedule, flip: true, affine: false });
    expect(adamw).toMatchObject({ optimizer: 'adamw', loss: 'mse', batchSize: 64, affine: false });
    expect(wing).toEqual({ ...adamw, loss: 'wing' });
    expect(augment).toEqual({ ...wing, affine: true, photometric: true });
  });

  it('tabulates results in row order', () => {
    const r = (row: string, best: number) => ({ row, change: row, epochs: 2, bestValidRmsePx: best, bestEpoch: 2, finalValidRmsePx: best, trainSeconds: 10, secondsPerEpoch: 5 });
    const lines = ablationTable([r('wing', 3), r('net5', 7.5)]).split('\n');
    expect(lines[2]).toMatch(/^\| net5 \| net5 \| 2 \| 7\.500 \|/);
    expect(lines[3]).toMatch(/^\| wing \|/);
  });
});
