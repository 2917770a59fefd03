import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '@keypoints/models';
import { EarlyStoppingCallback, HistoryCallback, RunDirectoryCallback, Trainer, evaluateMse, type FitEndEvent } from './index.js';
import { model, problem, source } from './test-problem.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('RunDirectoryCallback', () => {
  it('gives a user of Trainer alone a run directory: history, model, metrics', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'kp-rundir-')), 'run');
    const data = problem(48);
    const history = new HistoryCallback();
    const m = model();
    const end = (await lastValueFrom(
      new Trainer({ learningRate: 0.05 }, [history, new RunDirectoryCallback({ dir })]).fit(m, source(data), data, { epochs: 3 }),
    )) as FitEndEvent;
    expect(end.type).toBe('fitEnd');
    const rows = JSON.parse(await readFile(join(dir, 'history.json'), 'utf8'));
    expect(rows).toEqual(JSON.parse(JSON.stringify(history.entries)));
    const csv = (await readFile(join(dir, 'history.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,train_loss,valid_loss,train_rmse_px,valid_rmse_px,learning_rate,momentum,duration_ms');
    expect(csv).toHaveLength(4);
    expect(csv[3].split(',')[0]).toBe('3');
    const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'));
    const best = history.best()!;
    expect(metrics).toMatchObject({
      parameters: m.countParams(),
      epochs: 3,
      bestEpoch: best.epoch + 1,
      status: 'completed',
    });
    expect(metrics.finalValidRmsePx).toBeCloseTo(history.entries[2].validRmsePx, 10);
    expect(metrics.bestValidRmsePx).toBeCloseTo(best.validRmsePx, 10);
    expect(metrics).not.toHaveProperty('stopReason');
    const reloaded = await loadModel(join(dir, 'model'));
    expect(await evaluateMse(reloaded, data)).toBeCloseTo(await evaluateMse(m, data), 6);
    reloaded.dispose();
  });

  it('saves the weights early stopping restored, writes stopReason, and reshapes metrics', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'kp-rundir-')), 'run');
    const data = problem(48);
    const m = model();
    const stopper = { name: 'stopper', onEpochEnd: (ctx: { epoch: number; requestStop(r: string): void }) => void (ctx.epoch === 1 && ctx.requestStop('two is enough')) };
    const run = new RunDirectoryCallback({ dir, saveModel: true, metrics: (fit) => ({ model: 'tiny', epochs: fit.epochs, status: fit.status, stopReason: fit.stopReason, rows: fit.history.length }) });
    await lastValueFrom(new Trainer({}, [stopper, new EarlyStoppingCallback({ patience: 50 }), run]).fit(m, source(data), data, { epochs: 10 }));
    expect(JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'))).toEqual({ model: 'tiny', epochs: 2, status: 'stopped', stopReason: 'two is enough', rows: 2 });
    expect(run.metrics).toMatchObject({ model: 'tiny' });
    expect(existsSync(join(dir, 'model', 'model.json'))).toBe(true);
    const best = Math.min(...run.entries.map((r) => r.validLoss));
    const reloaded = await loadModel(join(dir, 'model'));
    expect(await evaluateMse(reloaded, data)).toBeCloseTo(best, 6);
    reloaded.dispose();
  });

  it('requires a dir', () => {
    expect(() => new RunDirectoryCallback({ dir: '' })).toThrow(/dir is required/);
  });
});
