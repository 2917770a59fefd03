import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@keypoints/core';
import { model, problem, source } from './test-problem.js';
import {
  AdamWOptimizer,
  HistoryCallback,
  ScheduleCallback,
  Trainer,
  cosineSchedule,
  createOptimizer,
  lossByName,
  maskedL1,
  maskedMse,
  maskedWing,
} from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const scalar = (t: tf.Scalar) => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('losses', () => {
  it('Wing loss (Feng et al. 2018) in pixels: w·ln(1 + |x|/ε) below w = 10 px, |x| − C above; masked targets ignored', () => {
    const pred = tf.tensor2d([[1 / 48, 20 / 48, 5]], [1, 3]);
    const y = tf.zeros([1, 3]);
    const mask = tf.tensor2d([[1, 1, 0]], [1, 3]);
    const c = 10 - 10 * Math.log(1 + 10 / 2);
    const expected = (10 * Math.log(1 + 1 / 2) + (20 - c)) / 2;
    expect(scalar(maskedWing()(pred, y, mask))).toBeCloseTo(expected, 4);
    // Continuous at |x| = w.
    const at = (px: number) => scalar(maskedWing()(tf.tensor2d([[px / 48]]), tf.zeros([1, 1]), tf.ones([1, 1])));
    expect(at(10 + 1e-3) - at(10 - 1e-3)).toBeLessThan(1e-2);
    expect(() => maskedWing(0, 2)).toThrow(ConfigError);
  });

  it('L1 and MSE are means over the present targets only', () => {
    const pred = tf.tensor2d([[0.5, -0.25, 9]]);
    const y = tf.zeros([1, 3]);
    const mask = tf.tensor2d([[1, 1, 0]]);
    expect(scalar(maskedL1(pred, y, mask))).toBeCloseTo(0.375, 6);
    expect(scalar(maskedMse(pred, y, mask))).toBeCloseTo((0.25 + 0.0625) / 2, 6);
    expect(lossByName('mse')).toBe(maskedMse);
    expect(() => lossByName('huber' as never)).toThrow(/unknown loss 'huber'/);
  });

  it('a Trainer with the Wing loss and AdamW learns and still reports the training MSE', async () => {
    const data = problem(96);
    const history = new HistoryCallback();
    const trainer = new Trainer({ optimizer: 'adamw', loss: 'wing', learningRate: 0.01 }, [history]);
    await new Promise<void>((done, fail) => trainer.fit(model(), source(data), data, { epochs: 15, batchEvents: false }).subscribe({ complete: done, error: fail }));
    const [first, last] = [history.entries[0]!, history.entries.at(-1)!];
    expect(last.validLoss).toBeLessThan(first.validLoss * 0.5);
    // trainLoss is the MSE of the training batches (not the Wing loss, which would be in pixels, >> 1 here).
    expect(last.trainRmsePx).toBeCloseTo(Math.sqrt(last.trainLoss) * 48, 6);
    expect(last.trainLoss).toBeLessThan(1);
    expect(last.momentum).toBe(0.9);
  });
});

describe('optimizers', () => {
  it('AdamW decays kernels (rank ≥ 2) by lr·wd before the Adam step, never biases; Adam (wd 0) equals tfjs adam', () => {
    const kernel = tf.variable(tf.tensor2d([[1, -2]]), true, 'k-test');
    const bias = tf.variable(tf.tensor1d([3]), true, 'b-test');
    const grads = [{ name: 'k-test', tensor: tf.zeros([1, 2]) }, { name: 'b-test', tensor: tf.zeros([1]) }];
    const opt = new AdamWOptimizer(0.1, 0.5);
    opt.applyGradients(grads);
    // Zero gradients: Adam's step is 0, so only the decay shows: k·(1 − 0.1·0.5).
    expect(Array.from(kernel.dataSync())).toEqual([0.95, -1.9].map((v) => Math.fround(v)));
    expect(Array.from(bias.dataSync())).toEqual([3]);
    opt.dispose();

    const a = tf.variable(tf.tensor2d([[1, 2]]), true, 'a-ours');
    const b = tf.variable(tf.tensor2d([[1, 2]]), true, 'a-tfjs');
    const ours = createOptimizer('adam', { learningRate: 0.01 });
    const stock = tf.train.adam(0.01, 0.9, 0.999);
    for (let i = 0; i < 3; i++) {
      ours.applyGradients([{ name: 'a-ours', tensor: tf.tensor2d([[0.5, -1]]) }]);
      stock.applyGradients([{ name: 'a-tfjs', tensor: tf.tensor2d([[0.5, -1]]) }]);
    }
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    ours.setLearningRate(0.5);
    expect(ours.currentLearningRate).toBe(0.5);
    expect(() => ours.setMomentum(0.95)).toThrow(/β1 is fixed/);
    tf.dispose([kernel, bias, a, b, ...grads.map((g) => g.tensor)]);
  });

  it('refuses a weight decay without adamw, and bad settings', () => {
    expect(() => createOptimizer('adam', { learningRate: 0.01, weightDecay: 1e-4 })).toThrow(/AdamW's/);
    expect(() => createOptimizer('adamw', { learningRate: 0, weightDecay: 1e-4 })).toThrow(ConfigError);
    expect(() => createOptimizer('adamw', { learningRate: 0.01, weightDecay: -1 })).toThrow(ConfigError);
    expect(() => createOptimizer('rmsprop' as never, { learningRate: 0.01 })).toThrow(/unknown optimizer/);
  });
});

describe('cosine schedule with warm-up', () => {
  it('rises linearly over the warm-up epochs, then follows half a cosine from the peak to stop at the last epoch', () => {
    const s = cosineSchedule(1, 0.01, 2);
    expect([s(0, 12), s(1, 12)]).toEqual([0.5, 1]);
    expect(s(2, 12)).toBeCloseTo(1, 12);
    // 11 epochs, 2 of warm-up: the cosine runs over epochs 2 … 10, its middle at epoch 6.
    expect(s(6, 11)).toBeCloseTo(0.01 + 0.99 * 0.5, 12);
    expect(s(10, 11)).toBeCloseTo(0.01, 12);
    expect(() => cosineSchedule(1, 0.1, 1.5)).toThrow(ConfigError);
  });

  it('with a time budget the span becomes the epochs that fit in it, and the elapsed time survives a checkpoint', () => {
    const cb = new ScheduleCallback({ variable: 'learningRate', schedule: cosineSchedule(1, 0, 0), span: 100, timeBudgetMs: 10_000 });
    const ctx = (epoch: number, durationMs?: number) =>
      ({ epoch, epochs: 100, setLearningRate: () => undefined, ...(durationMs !== undefined ? { logs: { durationMs } } : {}) }) as never;
    cb.onFitStart(ctx(0));
    expect(cb.effectiveSpan(0, 100)).toBe(100); // nothing timed yet
    cb.onEpochEnd(ctx(0, 1000));
    cb.onEpochEnd(ctx(1, 1000));
    // 2 s spent, 1 s per epoch: 8 more fit → span 2 + 8 = 10.
    expect(cb.effectiveSpan(2, 100)).toBe(10);
    const values: number[] = [];
    for (let e = 2; e < 10; e++) {
      values.push(cb.valueAt(e, 100));
      cb.onEpochEnd(ctx(e, 1000));
    }
    // The schedule anneals to its end in the last epoch that fits in the 10 s (epoch 9), not at epoch 99.
    expect(values.at(-1)).toBeCloseTo(0, 12);
    expect(values.every((v, i) => i === 0 || v < values[i - 1]!)).toBe(true);
    const resumed = new ScheduleCallback({ variable: 'learningRate', schedule: cosineSchedule(1, 0, 0), timeBudgetMs: 10_000 });
    resumed.setState(JSON.parse(JSON.stringify(cb.getState())));
    expect(resumed.getState()).toEqual({ span: 100, elapsedMs: 10_000, timedEpochs: 10 });
    expect(resumed.effectiveSpan(10, 100)).toBe(11); // budget spent: at least the epoch being run
    expect(() => new ScheduleCallback({ variable: 'learningRate', schedule: cosineSchedule(1, 0), timeBudgetMs: 0 })).toThrow(ConfigError);
  });
});
