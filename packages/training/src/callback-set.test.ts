import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, share, toArray, filter, map } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CALLBACKS, TRAINER, container, isKeypointsError } from '@keypoints/core';
import {
  CheckpointCallback,
  HistoryCallback,
  REMOVED_CALLBACKS,
  Trainer,
  mergeCallbacks,
  registerTraining,
  type CallbackContext,
  type TrainingCallback,
  type TrainingEvent,
} from './index.js';
import { model, problem, source } from './test-problem.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A user's own `history`: records validation RMSE only. */
class MyHistory implements TrainingCallback {
  readonly name = 'history';
  readonly order = 700;
  readonly rmse: number[] = [];
  onEpochEnd(ctx: CallbackContext): void {
    this.rmse.push(ctx.logs!.validRmsePx);
  }
}

describe('callbacks by name through DI', () => {
  it('resolves and fits with zero callbacks (no raw tsyringe error)', async () => {
    const child = container.createChildContainer();
    registerTraining(child);
    const trainer = child.resolve<Trainer>(TRAINER);
    expect(trainer.callbackNames).toEqual([]);
    const data = problem(32);
    const events = await lastValueFrom(trainer.fit(model(), source(data), data, { epochs: 2, batchEvents: false }).pipe(toArray()));
    expect(events.map((e) => e.type)).toEqual(['fitStart', 'epochStart', 'epochEnd', 'epochStart', 'epochEnd', 'fitEnd']);
    expect(events.at(-1)).toMatchObject({ type: 'fitEnd', status: 'completed', epochsCompleted: 2 });
    await child.dispose();
  });

  it("a user's `history` replaces the default one, which then records nothing", async () => {
    const child = container.createChildContainer();
    const defaultHistory = new HistoryCallback();
    const mine = new MyHistory();
    registerTraining(child, { defaults: [defaultHistory], callbacks: [mine] });
    const trainer = child.resolve<Trainer>(TRAINER);
    expect(trainer.callbackNames).toEqual(['history']);
    const data = problem(32);
    await lastValueFrom(trainer.fit(model(), source(data), data, { epochs: 3 }));
    expect(mine.rmse).toHaveLength(3);
    expect(mine.rmse.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(defaultHistory.entries).toHaveLength(0);
    await child.dispose();
  });

  it("a user's `checkpoint` replaces the default one: the default writes no files", async () => {
    const { mkdtemp, readdir } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'kp-replace-'));
    const saved: number[] = [];
    const myCheckpoint: TrainingCallback = { name: 'checkpoint', order: 800, onEpochEnd: async (ctx) => void saved.push((await ctx.getTrainingState()).epochsCompleted) };
    const child = container.createChildContainer();
    registerTraining(child, { defaults: [new HistoryCallback(), new CheckpointCallback({ dir })], callbacks: [myCheckpoint] });
    const data = problem(32);
    await lastValueFrom(child.resolve<Trainer>(TRAINER).fit(model(), source(data), data, { epochs: 2 }));
    expect(saved).toEqual([1, 2]);
    expect(await readdir(dir)).toEqual([]);
    await child.dispose();
  });

  it('removes a default by name (option or REMOVED_CALLBACKS token), keeps order by `order`', async () => {
    const log: string[] = [];
    const cb = (name: string, order: number): TrainingCallback => ({ name, order, onEpochEnd: () => void log.push(name) });
    const child = container.createChildContainer();
    registerTraining(child, { defaults: [cb('progress', 950), cb('a', 10), cb('b', 500)], callbacks: [cb('user', 300)], remove: ['progress'] });
    child.register(REMOVED_CALLBACKS, { useValue: 'b' });
    child.register(CALLBACKS, { useValue: cb('late', 5) });
    const trainer = child.resolve<Trainer>(TRAINER);
    expect(trainer.callbackNames).toEqual(['late', 'a', 'user']);
    const data = problem(16);
    await lastValueFrom(trainer.fit(model(), source(data), data, { epochs: 1 }));
    expect(log).toEqual(['late', 'a', 'user']);
    await child.dispose();
  });

  it('rejects removing a name that is not a default, and duplicates among the user callbacks', () => {
    expect(() => mergeCallbacks({ defaults: [new HistoryCallback()], remove: ['progres'] })).toThrow(
      "cannot remove training callback 'progres': no default callback has that name; defaults: history",
    );
    expect(() => mergeCallbacks({ callbacks: [new MyHistory(), new HistoryCallback()] })).toThrow(/duplicate training callback 'history'/);
    expect(() => mergeCallbacks({ defaults: [new HistoryCallback(), new HistoryCallback()] })).toThrow(/duplicate default training callback 'history'/);
  });
});

describe('fit() is cold', () => {
  it('a second concurrent subscription fails with TRAINING_BUSY; share() lets two observers watch one fit', async () => {
    const data = problem(32);
    const trainer = new Trainer({}, []);
    const fit$ = trainer.fit(model(), source(data), data, { epochs: 2, batchEvents: false });
    const first = lastValueFrom(fit$.pipe(toArray()));
    const second = lastValueFrom(fit$).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeypointsError(await second, 'TRAINING_BUSY')).toBe(true);
    expect((await first).filter((e) => e.type === 'epochEnd')).toHaveLength(2);

    // Multicast: one fit, two observers, each sees every epoch.
    let starts = 0;
    const counter: TrainingCallback = { name: 'count', onFitStart: () => void starts++ };
    const shared$ = new Trainer({}, [counter]).fit(model(), source(data), data, { epochs: 3, batchEvents: false }).pipe(share());
    const rmse = lastValueFrom(
      shared$.pipe(
        filter((e): e is Extract<TrainingEvent, { type: 'epochEnd' }> => e.type === 'epochEnd'),
        map((e) => e.logs.validRmsePx),
        toArray(),
      ),
    );
    const all = lastValueFrom(shared$.pipe(toArray()));
    expect(await rmse).toHaveLength(3);
    expect((await all).map((e) => e.type).filter((t) => t === 'epochEnd')).toHaveLength(3);
    expect(starts).toBe(1);
    // Cold again after it ended: a new subscription is a new fit.
    await lastValueFrom(shared$);
    expect(starts).toBe(2);
  });
});
