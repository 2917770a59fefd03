// Issue 11 faults 5–7 at the Trainer level: which weights the figures describe, schedules that
// keep their span across a resume, and early stopping on a NaN monitored value.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rmsePixelsFromMse } from '@keypoints/core';
import {
  EarlyStoppingCallback,
  HistoryCallback,
  RunDirectoryCallback,
  ScheduleCallback,
  Trainer,
  evaluateMse,
  linearSchedule,
  type TrainingCallback,
  type TrainingEvent,
} from './index.js';
import { model, problem, source } from './test-problem.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Perturbs the weights at the start of every epoch from `from` on (0-based), so later epochs are worse. */
function worsen(from: number): TrainingCallback {
  return {
    name: 'worsen',
    order: 50,
    onEpochStart: (ctx) => {
      if (ctx.epoch >= from) ctx.setWeights(ctx.getWeights().map((w) => w.map((v, i) => v + 0.3 * Math.sin(i + ctx.epoch))));
    },
  };
}

type FitEnd = Extract<TrainingEvent, { type: 'fitEnd' }>;

describe('metrics.json describes the saved weights (fault 5)', () => {
  it('with early stopping the headline is the restored best epoch, and the model evaluates to it', async () => {
    const data = problem(64);
    const m = model();
    const dir = await mkdtemp(join(tmpdir(), 'kp-saved-'));
    const history = new HistoryCallback();
    await lastValueFrom(
      new Trainer({ learningRate: 0.05 }, [worsen(3), new EarlyStoppingCallback({ patience: 10 }), history, new RunDirectoryCallback({ dir })]).fit(
        m,
        source(data),
        data,
        { epochs: 6 },
      ),
    );
    const rows = history.entries;
    const best = rows.reduce((b, r) => (r.validRmsePx < b.validRmsePx ? r : b));
    expect(rows.at(-1)!.validRmsePx).toBeGreaterThan(best.validRmsePx); // the last epoch is worse
    const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.savedModel).toEqual({ epoch: best.epoch + 1, weights: 'best', validRmsePx: best.validRmsePx });
    expect(metrics.validRmsePx).toBe(best.validRmsePx);
    expect(metrics.finalValidRmsePx).toBe(rows.at(-1)!.validRmsePx); // kept: the last epoch's
    expect(rmsePixelsFromMse(await evaluateMse(m, data))).toBeCloseTo(metrics.validRmsePx, 4);
  });

  it('without early stopping the saved model is the last epoch; a cancel mid-epoch says `partial`', async () => {
    const data = problem(64);
    const dir = await mkdtemp(join(tmpdir(), 'kp-saved-last-'));
    await lastValueFrom(new Trainer({}, [new RunDirectoryCallback({ dir })]).fit(model(), source(data), data, { epochs: 3 }));
    const metrics = JSON.parse(await readFile(join(dir, 'metrics.json'), 'utf8'));
    expect(metrics.savedModel).toEqual({ epoch: 3, weights: 'last', validRmsePx: metrics.finalValidRmsePx });

    const cut = await mkdtemp(join(tmpdir(), 'kp-saved-partial-'));
    const abort = new AbortController();
    const stopper: TrainingCallback = { name: 'stopper', onBatchEnd: (ctx) => void (ctx.epoch === 1 && ctx.batch!.index === 1 && abort.abort('test')) };
    await lastValueFrom(new Trainer({}, [stopper, new RunDirectoryCallback({ dir: cut })]).fit(model(), source(data), data, { epochs: 3, signal: abort.signal }));
    const partial = JSON.parse(await readFile(join(cut, 'metrics.json'), 'utf8'));
    expect(partial.savedModel).toEqual({ epoch: 2, weights: 'partial', validRmsePx: null });
  });
});

describe('schedules keep their span across a resume with more epochs (fault 6)', () => {
  it('holds the last planned value past the span; the span travels in the checkpointed state', async () => {
    const data = problem(32);
    const lr = () => new ScheduleCallback({ variable: 'learningRate', schedule: linearSchedule(0.03, 0.0001) });
    const first = lr();
    const history = new HistoryCallback();
    const m = model();
    let state: Awaited<ReturnType<import('./callback.js').CallbackContext['getTrainingState']>> | undefined;
    const capture: TrainingCallback = { name: 'capture', order: 900, onEpochEnd: async (ctx) => void (state = await ctx.getTrainingState()) };
    await lastValueFrom(new Trainer({}, [first, history, capture]).fit(m, source(data), data, { epochs: 4 }));
    expect(first.span).toBe(4);
    expect(state!.callbacks['learningRate-schedule']).toEqual({ span: 4 });

    const resumed = lr();
    const h2 = new HistoryCallback();
    await lastValueFrom(new Trainer({}, [resumed, h2]).fit(m, source(data), data, { epochs: 7, resume: { ...state!, callbacks: { 'learningRate-schedule': state!.callbacks['learningRate-schedule'] } } }));
    const planned = [0.03, 0.03 - 0.0299 / 3, 0.03 - (2 * 0.0299) / 3, 0.0001]; // np.linspace(0.03, 0.0001, 4)
    history.entries.forEach((e, i) => expect(e.learningRate).toBeCloseTo(planned[i], 10));
    expect(h2.entries.map((e) => e.epoch)).toEqual([4, 5, 6]);
    for (const e of h2.entries) expect(e.learningRate).toBeCloseTo(0.0001, 10);
    // An explicit span re-plans (wins over the saved one).
    expect(new ScheduleCallback({ variable: 'momentum', schedule: linearSchedule(0.9, 0.999), span: 3 }).valueAt(5, 10)).toBeCloseTo(0.999, 12);
    expect(() => new ScheduleCallback({ variable: 'momentum', schedule: () => 0.9, span: 0 })).toThrow(/span must be a positive integer/);
  });
});

describe('early stopping on a NaN monitored value (fault 7)', () => {
  it('stops at once with a clear reason, never "best NaN at epoch 0"', async () => {
    const data = problem(64);
    const validation = { ...data, images: Float32Array.from(data.images) };
    validation.images[0] = NaN;
    const events = await lastValueFrom(
      new Trainer({}, [new EarlyStoppingCallback({ patience: 5 })]).fit(model(), source(data), validation, { epochs: 10 }).pipe(toArray()),
    );
    const end = events.at(-1) as FitEnd;
    expect(end.status).toBe('stopped');
    expect(end.epochsCompleted).toBe(1);
    expect(end.stopReason).toBe('early stopping: validLoss is NaN at epoch 1 (no finite value yet)');
  });

  it('after finite epochs: stops at the NaN epoch, names the best, and restores the best weights', async () => {
    const data = problem(64);
    const validation = { ...data, images: Float32Array.from(data.images) };
    const poison: TrainingCallback = { name: 'poison', onEpochStart: (ctx) => void (ctx.epoch === 3 && (validation.images[0] = NaN)) };
    const history = new HistoryCallback();
    const m = model();
    const events = await lastValueFrom(
      new Trainer({ learningRate: 0.05 }, [poison, new EarlyStoppingCallback({ patience: 5 }), history]).fit(m, source(data), validation, { epochs: 10 }).pipe(toArray()),
    );
    const end = events.at(-1) as FitEnd;
    expect(end.epochsCompleted).toBe(4);
    const finite = history.entries.slice(0, 3);
    const best = finite.reduce((b, r) => (r.validLoss < b.validLoss ? r : b));
    expect(end.stopReason).toBe(`early stopping: validLoss is NaN at epoch 4 (best ${best.validLoss.toPrecision(6)} at epoch ${best.epoch + 1})`);
    expect(end.stopReason).not.toMatch(/best NaN/);
    expect(await evaluateMse(m, data)).toBeCloseTo(best.validLoss, 6);
  });
});
