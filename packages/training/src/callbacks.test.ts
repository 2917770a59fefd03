import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeypointsError } from '@keypoints/core';
import {
  CheckpointCallback,
  EarlyStoppingCallback,
  HistoryCallback,
  NanGuardCallback,
  ScheduleCallback,
  Trainer,
  evaluateMse,
  exponentialDecay,
  linearLearningRate,
  linearMomentum,
  loadCheckpoint,
  type TrainingCallback,
  type TrainingEvent,
} from './index.js';
import { model, problem, source } from './test-problem.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('schedules (Nouri 2014 AdjustVariable)', () => {
  it('linear learning rate: 0.03 at the first epoch, midpoint in the middle, 0.0001 at the last', () => {
    const lr = linearLearningRate();
    expect(lr.valueAt(0, 1001)).toBeCloseTo(0.03, 12);
    expect(lr.valueAt(500, 1001)).toBeCloseTo((0.03 + 0.0001) / 2, 12);
    expect(lr.valueAt(1000, 1001)).toBeCloseTo(0.0001, 12);
    const mom = linearMomentum();
    expect(mom.valueAt(0, 3)).toBeCloseTo(0.9, 12);
    expect(mom.valueAt(1, 3)).toBeCloseTo(0.9495, 12);
    expect(mom.valueAt(2, 3)).toBeCloseTo(0.999, 12);
  });

  it('exponential decay', () => {
    const s = exponentialDecay(0.1, 0.5, 2);
    expect(s(0, 10)).toBeCloseTo(0.1);
    expect(s(2, 10)).toBeCloseTo(0.05);
    expect(exponentialDecay(0.1, 0.5, 2, true)(3, 10)).toBeCloseTo(0.05);
    expect(() => exponentialDecay(0.1, 1.5)).toThrow(/rate must be in/);
  });

  it('really drives the optimizer during a fit', async () => {
    const data = problem(32);
    const history = new HistoryCallback();
    await lastValueFrom(
      new Trainer({}, [linearLearningRate(0.03, 0.001), linearMomentum(0.9, 0.99), history]).fit(model(), source(data), data, { epochs: 5 }),
    );
    expect(history.entries.map((e) => e.learningRate)).toEqual([0.03, 0.02275, 0.0155, 0.00825, 0.001].map((v) => expect.closeTo(v, 10)));
    expect(history.entries[4].momentum).toBeCloseTo(0.99, 10);
  });

  it('rejects a bad variable and bad values', async () => {
    expect(() => new ScheduleCallback({ variable: 'beta' as never, schedule: () => 1 })).toThrow(/learningRate' or 'momentum/);
    const data = problem(16);
    const bad = new ScheduleCallback({ variable: 'momentum', schedule: () => 1.2 });
    await expect(lastValueFrom(new Trainer({}, [bad]).fit(model(), source(data), data, { epochs: 1 }))).rejects.toThrow(/momentum must be in/);
  });
});

/** Makes validation worse from epoch `from` on by adding noise to the weights before the epoch trains. */
function sabotage(from: number): TrainingCallback {
  return {
    name: 'sabotage',
    order: 50,
    onEpochStart: (ctx) => {
      if (ctx.epoch >= from) ctx.setWeights(ctx.getWeights().map((w) => w.map((v, i) => v + 0.3 * Math.sin(i + ctx.epoch))));
    },
  };
}

describe('EarlyStoppingCallback', () => {
  it('stops after `patience` epochs without improvement, with a sticky reason, and restores the best weights', async () => {
    const data = problem(64);
    const m = model();
    const es = new EarlyStoppingCallback({ patience: 2 });
    const history = new HistoryCallback();
    const events = await lastValueFrom(
      new Trainer({ learningRate: 0.05 }, [sabotage(3), es, history]).fit(m, source(data), data, { epochs: 50 }).pipe(toArray()),
    );
    const end = events.at(-1) as Extract<TrainingEvent, { type: 'fitEnd' }>;
    expect(end.status).toBe('stopped');
    expect(end.stopReason).toMatch(/early stopping: validLoss did not improve for 2 epochs \(best .* at epoch 3\)/);
    expect(history.entries).toHaveLength(5);
    expect(es.best.epoch).toBe(2);
    // The model now has the weights of epoch 3 (index 2): its validation loss is the best one.
    expect(await evaluateMse(m, data)).toBeCloseTo(history.entries[2].validLoss, 6);
  });

  it('restores the best weights also when the run completes or is cancelled', async () => {
    const data = problem(64);
    const m = model();
    const history = new HistoryCallback();
    await lastValueFrom(new Trainer({ learningRate: 0.05 }, [sabotage(4), new EarlyStoppingCallback({ patience: 100 }), history]).fit(m, source(data), data, { epochs: 6 }));
    const best = Math.min(...history.entries.map((e) => e.validLoss));
    expect(await evaluateMse(m, data)).toBeCloseTo(best, 6);
  });

  it('refuses to monitor a validation metric when the fit has no validation set', async () => {
    const data = problem(16);
    const fit = new Trainer({}, [new EarlyStoppingCallback({ patience: 2 })]).fit(model(), source(data), undefined, { epochs: 3 });
    await expect(lastValueFrom(fit)).rejects.toThrow(/monitors 'validLoss' but the fit has no validation set/);
  });

  it('validates options in the constructor and lists monitorable metrics', () => {
    expect(() => new EarlyStoppingCallback({ patience: 0 })).toThrow(/patience must be a positive integer/);
    expect(() => new EarlyStoppingCallback({ monitor: 'val_acc' as never })).toThrow(/available metrics: validLoss, validRmsePx, trainLoss, trainRmsePx/);
    expect(() => new EarlyStoppingCallback({ minDelta: -1 })).toThrow(/minDelta/);
  });
});

describe('NanGuardCallback', () => {
  it('fails the fit on a diverging loss and keeps the last good checkpoint', async () => {
    const data = problem(64);
    const dir = await mkdtemp(join(tmpdir(), 'kp-nan-'));
    const explode: TrainingCallback = { name: 'explode', order: 90, onEpochStart: (ctx) => void (ctx.epoch === 2 && ctx.setLearningRate(1e6)) };
    const history = new HistoryCallback();
    const events: TrainingEvent[] = [];
    const err = await lastValueFrom(
      new Trainer({}, [explode, new NanGuardCallback(), history, new CheckpointCallback({ dir })]).fit(model(), source(data), data, { epochs: 10 }),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeypointsError(err, 'TRAINING_DIVERGED')).toBe(true);
    expect((err as Error).message).toMatch(/loss is (NaN|Infinity) at epoch 3/);
    void events;
    const last = await loadCheckpoint(join(dir, 'last'));
    expect(last.state.epochsCompleted).toBe(2);
    last.model.dispose();
  });
});

describe('CheckpointCallback and resume', () => {
  const callbacks = (dir: string) => [
    linearLearningRate(0.05, 0.005),
    linearMomentum(0.9, 0.99),
    new EarlyStoppingCallback({ patience: 50 }),
    new HistoryCallback(),
    new CheckpointCallback({ dir }),
  ];

  it('a cancelled run resumed from its last checkpoint matches an uninterrupted run', async () => {
    const data = problem(64);
    const epochs = 6;
    // Reference: uninterrupted.
    const refDir = await mkdtemp(join(tmpdir(), 'kp-ref-'));
    const refCbs = callbacks(refDir);
    const refModel = model();
    await lastValueFrom(new Trainer({}, refCbs).fit(refModel, source(data), data, { epochs }));
    const refHistory = (refCbs[3] as HistoryCallback).entries;

    // Interrupted after epoch 3, then resumed in a fresh Trainer with fresh callbacks.
    const dir = await mkdtemp(join(tmpdir(), 'kp-ckpt-'));
    await new Promise<void>((resolve) => {
      const sub = new Trainer({}, callbacks(dir)).fit(model(), source(data), data, { epochs }).subscribe((e) => {
        if (e.type === 'epochEnd' && e.epoch === 2) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    const { model: resumed, state } = await loadCheckpoint(join(dir, 'last'));
    expect(state.epochsCompleted).toBe(3);
    const cbs = callbacks(dir);
    await lastValueFrom(new Trainer({}, cbs).fit(resumed, source(data), data, { epochs, resume: state }));
    const history = (cbs[3] as HistoryCallback).entries;
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let e = 0; e < epochs; e++) {
      expect(history[e].learningRate).toBeCloseTo(refHistory[e].learningRate, 12);
      expect(history[e].momentum).toBeCloseTo(refHistory[e].momentum, 12);
      expect(history[e].validLoss).toBeCloseTo(refHistory[e].validLoss, 6);
    }
    expect(await evaluateMse(resumed, data)).toBeCloseTo(await evaluateMse(refModel, data), 6);
    expect((await readdir(dir)).sort()).toEqual(['best', 'last', 'previous']);
  });

  it('says clearly when there is no checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-none-'));
    await expect(loadCheckpoint(join(dir, 'last'))).rejects.toThrow(/no checkpoint/);
  });
});
