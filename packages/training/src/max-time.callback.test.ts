import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeypointsError, type Clock } from '@keypoints/core';
import {
  CheckpointCallback,
  EarlyStoppingCallback,
  MaxTimeCallback,
  RunDirectoryCallback,
  Trainer,
  evaluateMse,
  loadCheckpoint,
  type CallbackContext,
  type FitEndEvent,
  type TrainingCallback,
} from './index.js';
import { model, problem, source } from './test-problem.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A clock the test moves by hand (milliseconds). */
function fakeClock(start = 1_000): Clock & { t: number; advance(ms: number): void } {
  return {
    t: start,
    now() {
      return this.t;
    },
    advance(ms: number) {
      this.t += ms;
    },
  };
}

/** Just what the callback reads of a fit: the epoch, validation, and the sticky stop request. */
function fakeFit(hasValidation = true) {
  let stop: string | undefined;
  const ctx = (epoch: number) =>
    ({
      epoch,
      hasValidation,
      requestStop: (r: string) => void (stop ??= r),
      get stopRequested() {
        return stop;
      },
    }) as unknown as CallbackContext;
  return { ctx, get stop() { return stop; } };
}

/**
 * Drive `cb` through epochs of `epochMs` each (clock advanced by hand), from epoch `from`, until it
 * requests a stop or `max` epochs ran; returns how many epochs ran in this fit.
 */
function runEpochs(cb: MaxTimeCallback, clock: ReturnType<typeof fakeClock>, epochMs: number, fit = fakeFit(), from = 0, max = 1000): number {
  cb.onFitStart(fit.ctx(from));
  let e = from;
  while (e < from + max) {
    clock.advance(epochMs);
    cb.onEpochEnd(fit.ctx(e));
    e++;
    if (fit.stop !== undefined) break;
  }
  cb.onFitEnd();
  return e - from;
}

describe('MaxTimeCallback (PyTorch Lightning max_time)', () => {
  it('stops at the epoch end where the budget is spent', () => {
    const clock = fakeClock();
    const cb = new MaxTimeCallback({ minutes: 1, clock });
    const fit = fakeFit();
    // Epochs of 10 s, budget 60 s: after epoch 5 10 s are left (= one epoch: go on), after epoch 6 none.
    expect(runEpochs(cb, clock, 10_000, fit)).toBe(6);
    expect(fit.stop).toBe('time budget of 1 min spent (1 min, 6 epochs)');
    expect(cb.stopped).toBe(true);
    expect(cb.elapsedMs).toBe(60_000);
  });

  it('stops before an epoch that would overrun the budget, and says how much was left', () => {
    const clock = fakeClock();
    const cb = new MaxTimeCallback({ minutes: 1, clock });
    const fit = fakeFit();
    // Epochs of 25 s: after epoch 2 (50 s) 10 s are left, less than an epoch — a third would end at 75 s.
    expect(runEpochs(cb, clock, 25_000, fit)).toBe(2);
    expect(fit.stop).toBe("time budget of 1 min spent (50 s, 2 epochs; 10 s left, less than the last epoch's 25 s)");
    expect(cb.elapsedMs).toBeLessThanOrEqual(cb.budgetMs);
  });

  it('never cuts an epoch: it acts only at epoch ends, and the first epoch always finishes', () => {
    const hooks = Object.getOwnPropertyNames(MaxTimeCallback.prototype).filter((k) => k.startsWith('on'));
    expect(hooks.sort()).toEqual(['onEpochEnd', 'onFitEnd', 'onFitStart']);
    const clock = fakeClock();
    const cb = new MaxTimeCallback({ minutes: 0.5, clock });
    const fit = fakeFit();
    // One epoch of 2 minutes against a 30 s budget: it ends, then the fit stops.
    expect(runEpochs(cb, clock, 120_000, fit)).toBe(1);
    expect(fit.stop).toBe('time budget of 0.5 min spent (2 min, 1 epoch)');
  });

  it('counts the whole fit from onFitStart (validation and checkpoint writes included), live', () => {
    const clock = fakeClock();
    const cb = new MaxTimeCallback({ minutes: 10, clock });
    const fit = fakeFit();
    cb.onFitStart(fit.ctx(0));
    clock.advance(4_000); // training + validation
    cb.onEpochEnd(fit.ctx(0));
    clock.advance(1_500); // the checkpoint write after it
    expect(cb.getState()).toEqual({ elapsedMs: 5_500 });
    clock.advance(4_000);
    cb.onEpochEnd(fit.ctx(1));
    expect(cb.elapsedMs).toBe(9_500);
    cb.onFitEnd();
    clock.advance(60_000); // after the fit: not counted
    expect(cb.elapsedMs).toBe(9_500);
  });

  it('keeps the elapsed time in its state: a resumed run continues the same budget', () => {
    const clock = fakeClock();
    const first = new MaxTimeCallback({ minutes: 1, clock });
    // A run killed after 3 epochs of 10 s (its last checkpoint holds the state).
    runEpochs(first, clock, 10_000, fakeFit(), 0, 3);
    const saved = JSON.parse(JSON.stringify(first.getState()));
    expect(saved).toEqual({ elapsedMs: 30_000 });

    clock.advance(3_600_000); // an hour between the kill and the resume: not part of the fit
    const resumed = new MaxTimeCallback({ minutes: 1, clock });
    resumed.setState(saved);
    const fit = fakeFit();
    expect(runEpochs(resumed, clock, 10_000, fit, 3)).toBe(3);
    expect(fit.stop).toBe('time budget of 1 min spent (1 min, 6 epochs)');

    // A new fit from epoch 0 on the same instance starts a new budget.
    const again = fakeFit();
    expect(runEpochs(resumed, clock, 10_000, again)).toBe(6);
    expect(() => resumed.setState({ elapsedMs: -1 })).toThrow(/elapsedMs/);
  });

  it('says that the last weights are kept when there is no validation set (no best epoch)', () => {
    const clock = fakeClock();
    const fit = fakeFit(false);
    runEpochs(new MaxTimeCallback({ minutes: 0.1, clock }), clock, 6_000, fit);
    expect(fit.stop).toBe("time budget of 0.1 min spent (6 s, 1 epoch); no validation set, so the last epoch's weights are kept");
  });

  it('leaves an earlier stop request alone (stopped stays false)', () => {
    const clock = fakeClock();
    const cb = new MaxTimeCallback({ minutes: 0.1, clock });
    const fit = fakeFit();
    cb.onFitStart(fit.ctx(0));
    fit.ctx(0).requestStop('early stopping: enough');
    clock.advance(10_000);
    cb.onEpochEnd(fit.ctx(0));
    expect(fit.stop).toBe('early stopping: enough');
    expect(cb.stopped).toBe(false);
  });

  it("early stopping says too whether its stop ended the fit (metrics.json's stoppedBy); patience ∞ never stops for want of improvement", () => {
    const es = new EarlyStoppingCallback({ patience: Infinity });
    const fit = fakeFit();
    const at = (epoch: number, validLoss: number) => Object.assign(fit.ctx(epoch), { logs: { validLoss }, getWeights: () => [] });
    es.onFitStart(at(0, 0));
    es.onEpochEnd(at(0, 1));
    for (let e = 1; e < 500; e++) es.onEpochEnd(at(e, 2));
    expect([fit.stop, es.stopped]).toEqual([undefined, false]);
    es.onEpochEnd(at(500, Number.NaN));
    expect(fit.stop).toBe('early stopping: validLoss is NaN at epoch 501 (best 1.00000 at epoch 1)');
    expect(es.stopped).toBe(true);
    expect(() => new EarlyStoppingCallback({ patience: Number.NaN })).toThrow(/patience must be a positive integer or Infinity/);
  });

  it('validates the budget in the constructor', () => {
    for (const minutes of [0, -1, Number.NaN, Infinity, '5' as unknown as number, undefined as unknown as number]) {
      let err: unknown;
      try {
        new MaxTimeCallback({ minutes });
      } catch (e) {
        err = e;
      }
      expect(isKeypointsError(err) && err.code, String(minutes)).toBe('CONFIG_INVALID');
      expect((err as Error).message).toMatch(/max-time: minutes must be a finite number > 0/);
    }
    expect(new MaxTimeCallback({ minutes: 0.02 }).budgetMs).toBe(1_200);
  });
});

describe('MaxTimeCallback in a Trainer fit', () => {
  /** Each epoch "takes" `ms` on the fake clock; from epoch `from` on the weights are made worse, so the best epoch is not the last. */
  const slowAndWorse = (clock: ReturnType<typeof fakeClock>, ms: number, from: number): TrainingCallback => ({
    name: 'slow-and-worse',
    order: 50,
    onEpochStart: (ctx) => {
      clock.advance(ms);
      if (ctx.epoch >= from) ctx.setWeights(ctx.getWeights().map((w) => w.map((v, i) => v + 0.3 * Math.sin(i + ctx.epoch))));
    },
  });

  it('stops by time at an epoch boundary; early stopping (patience ∞) restores the best weights; the state is checkpointed and resumed', async () => {
    const data = problem(48);
    const clock = fakeClock();
    const dir = await mkdtemp(join(tmpdir(), 'kp-maxtime-'));
    const m = model();
    const run = new RunDirectoryCallback({ dir: join(dir, 'run'), clock });
    const callbacks = () => [
      slowAndWorse(clock, 10_000, 3),
      new EarlyStoppingCallback({ patience: Infinity }),
      new MaxTimeCallback({ minutes: 1, clock }),
      new CheckpointCallback({ dir: join(dir, 'checkpoints') }),
    ];
    const first = [...callbacks(), run];
    const end = (await lastValueFrom(new Trainer({ learningRate: 0.05 }, first).fit(m, source(data), data, { epochs: 1000 }))) as FitEndEvent;
    expect(end).toMatchObject({ type: 'fitEnd', status: 'stopped', epochsCompleted: 6, stopReason: 'time budget of 1 min spent (1 min, 6 epochs)' });
    // Which callback stopped it (metrics.json `stoppedBy` in a keypoints run).
    expect(first.filter((cb) => (cb instanceof MaxTimeCallback || cb instanceof EarlyStoppingCallback) && cb.stopped).map((cb) => cb.name)).toEqual(['max-time']);
    const best = run.best()!;
    expect(best.epoch).toBeLessThan(5);
    expect(await evaluateMse(m, data)).toBeCloseTo(best.validLoss, 6);
    const metrics = JSON.parse(await readFile(join(dir, 'run', 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ epochs: 6, status: 'stopped', savedModel: { epoch: best.epoch + 1, weights: 'best' } });

    // The last checkpoint holds the elapsed time: resuming with a larger budget continues it (60 s spent → 30 s more).
    const { model: resumed, state } = await loadCheckpoint(join(dir, 'checkpoints', 'last'));
    expect(state.callbacks['max-time']).toEqual({ elapsedMs: 60_000 });
    const more = [
      ...callbacks().map((cb) => (cb instanceof MaxTimeCallback ? new MaxTimeCallback({ minutes: 1.5, clock }) : cb)),
      new RunDirectoryCallback({ dir: join(dir, 'run'), clock }),
    ];
    const end2 = (await lastValueFrom(new Trainer({ learningRate: 0.05 }, more).fit(resumed, source(data), data, { epochs: 1000, resume: state }))) as FitEndEvent;
    expect(end2).toMatchObject({ status: 'stopped', epochsCompleted: 9, stopReason: 'time budget of 1.5 min spent (1.5 min, 9 epochs)' });
    resumed.dispose();
    m.dispose();
  });
});
