import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, take, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { container, CALLBACKS, TRAINER } from '@keypoints/core';
import { model, problem, source } from './test-problem.js';
import {
  HistoryCallback,
  NesterovMomentumOptimizer,
  Trainer,
  registerTraining,
  type TrainingCallback,
  type TrainingEvent,
} from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer', () => {
  it('emits fitStart, epochStart/epochEnd per epoch and exactly one fitEnd, and learns', async () => {
    const data = problem(96);
    const history = new HistoryCallback();
    const trainer = new Trainer({ learningRate: 0.05 }, [history]);
    const events = await lastValueFrom(trainer.fit(model(), source(data), data, { epochs: 30 }).pipe(toArray()));
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('fitStart');
    expect(types.filter((t) => t === 'epochEnd')).toHaveLength(30);
    expect(types.filter((t) => t === 'batchEnd')).toHaveLength(30 * 6);
    expect(types.filter((t) => t === 'fitEnd')).toHaveLength(1);
    expect(types.at(-1)).toBe('fitEnd');
    const end = events.at(-1) as Extract<TrainingEvent, { type: 'fitEnd' }>;
    expect(end.status).toBe('completed');
    expect(Object.isFrozen(end)).toBe(true);
    expect(history.entries).toHaveLength(30);
    const first = history.entries[0];
    const last = history.entries[29];
    expect(last.validLoss).toBeLessThan(first.validLoss * 0.5);
    expect(last.validRmsePx).toBeCloseTo(Math.sqrt(last.validLoss) * 48, 6);
  });

  it('keeps tf.memory().numTensors flat from epoch to epoch', async () => {
    const data = problem(64);
    const counts: number[] = [];
    const probe: TrainingCallback = { name: 'probe', onEpochEnd: () => void counts.push(tf.memory().numTensors) };
    const m = model();
    const before = tf.memory().numTensors;
    await lastValueFrom(new Trainer({}, [probe]).fit(m, source(data), data, { epochs: 6 }));
    expect(new Set(counts.slice(1)).size).toBe(1);
    // After the fit only the model's weights remain (the optimizer's slots are disposed).
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs callbacks in ascending order, awaited, before the matching event', async () => {
    const data = problem(32);
    const log: string[] = [];
    const slow: TrainingCallback = {
      name: 'slow',
      order: 50,
      onEpochEnd: async () => {
        await new Promise((r) => setTimeout(r, 5));
        log.push('slow');
      },
    };
    const fast: TrainingCallback = { name: 'fast', order: 10, onEpochEnd: () => void log.push('fast') };
    const trainer = new Trainer({}, [slow, fast]);
    const sub = trainer.fit(model(), source(data), data, { epochs: 1, batchEvents: false });
    await lastValueFrom(sub.pipe(take(10), toArray())).then((events) => {
      for (const e of events) if (e.type === 'epochEnd') log.push('event');
    });
    expect(log).toEqual(['fast', 'slow', 'event']);
    expect(trainer.describeCallbacks()).toContain('onEpochEnd: fast → slow');
  });

  it('stops when a callback requests it, sticky, with the reason in fitEnd', async () => {
    const data = problem(32);
    const stopper: TrainingCallback = {
      name: 'stopper',
      order: 1,
      onEpochEnd: (ctx) => {
        if (ctx.epoch === 2) ctx.requestStop('enough at epoch 2');
      },
    };
    const cannotUnstop: TrainingCallback = { name: 'later', order: 2, onEpochEnd: (ctx) => void ctx.stopRequested };
    const events = await lastValueFrom(
      new Trainer({}, [stopper, cannotUnstop]).fit(model(), source(data), data, { epochs: 10 }).pipe(toArray()),
    );
    const end = events.at(-1) as Extract<TrainingEvent, { type: 'fitEnd' }>;
    expect(end).toMatchObject({ status: 'stopped', stopReason: 'enough at epoch 2', epochsCompleted: 3 });
  });

  it('cancels cleanly when the subscriber unsubscribes', async () => {
    const data = problem(64);
    const fitEnd: string[] = [];
    const watcher: TrainingCallback = { name: 'w', onFitEnd: (ctx) => void fitEnd.push(ctx.status!) };
    const before = tf.memory().numTensors;
    const m = model();
    const afterModel = tf.memory().numTensors;
    const trainer = new Trainer({}, [watcher]);
    await new Promise<void>((resolve) => {
      const sub = trainer.fit(m, source(data), data, { epochs: 1000 }).subscribe((e) => {
        if (e.type === 'epochEnd' && e.epoch === 1) {
          sub.unsubscribe();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(fitEnd).toEqual(['cancelled']);
    expect(tf.memory().numTensors).toBe(afterModel);
    expect(afterModel).toBeGreaterThan(before);
  });

  it('rejects duplicate and misspelt callbacks in the constructor', () => {
    const h = new HistoryCallback();
    expect(() => new Trainer({}, [h, new HistoryCallback()])).toThrow(/duplicate training callback 'history'/);
    const typo = { name: 'typo', onEpochEnded: () => {} } as unknown as TrainingCallback;
    expect(() => new Trainer({}, [typo])).toThrow(/unknown hook 'onEpochEnded'.*onEpochEnd/);
    expect(() => new Trainer({ learningRate: -1 }, [])).toThrow(/learning rate/);
  });

  it('resolves through DI with callback plugins registered under CALLBACKS', async () => {
    const child = container.createChildContainer();
    const seen: number[] = [];
    registerTraining(child, { trainer: { learningRate: 0.02 }, callbacks: [new HistoryCallback()] });
    child.register(CALLBACKS, { useValue: { name: 'mine', onEpochEnd: (c: { epoch: number }) => void seen.push(c.epoch) } });
    const trainer = child.resolve<Trainer>(TRAINER);
    const data = problem(32);
    await lastValueFrom(trainer.fit(model(), source(data), data, { epochs: 2 }));
    expect(seen).toEqual([0, 1]);
    await child.dispose();
  });
});

describe('NesterovMomentumOptimizer', () => {
  /** One update of w from w0 = 0 with gradient g = 1 applied twice: v1 = 1, v2 = μ + 1; Δw2 = −lr(1 + μ·v2). */
  function secondStep(changeMomentumTo?: number): number {
    const opt = new NesterovMomentumOptimizer(0.1, 0.9);
    const w = tf.variable(tf.scalar(0));
    const step = () => opt.minimize(() => w.mul(1).sum() as tf.Scalar, false, [w]);
    step();
    const after1 = w.dataSync()[0];
    if (changeMomentumTo !== undefined) opt.setMomentum(changeMomentumTo);
    step();
    const delta = w.dataSync()[0] - after1;
    opt.dispose();
    w.dispose();
    return delta;
  }

  it('really changes the update when momentum changes mid-training', () => {
    const mu1 = 0.9;
    expect(secondStep()).toBeCloseTo(-0.1 * (1 + mu1 * (mu1 + 1)), 5);
    const mu2 = 0.5;
    expect(secondStep(mu2)).toBeCloseTo(-0.1 * (1 + mu2 * (mu2 + 1)), 5);
  });

  it('stock tfjs MomentumOptimizer.setMomentum does nothing (why this class exists)', () => {
    const opt = new tf.MomentumOptimizer(0.1, 0.9, true);
    const w = tf.variable(tf.scalar(0));
    const step = () => opt.minimize(() => w.mul(1).sum() as tf.Scalar, false, [w]);
    step();
    const a = w.dataSync()[0];
    opt.setMomentum(0.5);
    step();
    // Still the 0.9 update: if tfjs ever fixes this, this test tells us to drop the workaround.
    expect(w.dataSync()[0] - a).toBeCloseTo(-0.1 * (1 + 0.9 * 1.9), 5);
    opt.dispose();
    w.dispose();
  });

  it('rejects invalid values', () => {
    expect(() => new NesterovMomentumOptimizer(0.01, 1)).toThrow(/momentum must be in \[0, 1\)/);
    expect(() => new NesterovMomentumOptimizer(0, 0.9)).toThrow(/learning rate/);
  });
});
