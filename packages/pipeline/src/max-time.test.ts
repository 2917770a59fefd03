import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rmsePixelsFromMse, silentLogger } from '@keypoints/core';
import { loadModel } from '@keypoints/models';
import { EarlyStoppingCallback, MaxTimeCallback, evaluateMse, loadCheckpoint, type TrainingEvent } from '@keypoints/training';
import { callbacksOf, loadRunData, readRunConfig, runSummaryLines, trainRun } from './index.js';

describe('--max-time (PyTorch Lightning max_time) through trainRun', () => {
  it('net1 on the embedded sample with a 0.02 min budget and 100000 epochs: stopped by time at an epoch end, best weights saved, metrics.json says so', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'kp-maxtime-')), 'net1');
    const ended: number[] = [];
    const { runDir, metrics, end } = await trainRun(
      { model: 'net1', epochs: 100_000, maxTime: 0.02, backend: 'wasm', out },
      { progress: false, logger: silentLogger, onEvent: (e: TrainingEvent) => void (e.type === 'epochEnd' && ended.push(e.epoch)) },
    );

    // Stopped by the budget, at an epoch boundary: every epoch that started ended and was recorded.
    expect(end.status).toBe('stopped');
    expect(metrics).toMatchObject({ status: 'stopped', stoppedBy: 'max-time', maxTimeMinutes: 0.02 });
    expect(metrics.stopReason).toMatch(new RegExp(`^time budget of 0.02 min spent \\([\\d.]+ (min|s), ${metrics.epochs} epochs?[;)]`));
    expect(metrics.epochs).toBeGreaterThanOrEqual(1);
    expect(metrics.epochs).toBeLessThan(100_000);
    expect(end.epochsCompleted).toBe(metrics.epochs);
    expect(ended).toEqual([...Array(metrics.epochs).keys()]);
    const history = JSON.parse(await readFile(join(runDir, 'history.json'), 'utf8')) as Array<{ durationMs: number }>;
    expect(history).toHaveLength(metrics.epochs);
    const { state } = await loadCheckpoint(join(runDir, 'checkpoints', 'last'));
    expect(state.epochsCompleted).toBe(metrics.epochs);
    // No epoch started once the budget was spent: the epochs before the last one took less than it.
    expect(history.slice(0, -1).reduce((t, r) => t + r.durationMs, 0)).toBeLessThan(0.02 * 60_000);
    expect((state.callbacks['max-time'] as { elapsedMs: number }).elapsedMs).toBeGreaterThan(0);

    // The saved model is the best epoch's (early stopping's best-weights copy), and model/ holds it.
    expect(metrics.savedModel).toMatchObject({ weights: 'best', epoch: metrics.bestEpoch });
    expect(metrics.validRmsePx).toBeCloseTo(metrics.bestValidRmsePx, 6);
    const config = await readRunConfig(runDir);
    expect(config.maxTime).toBe(0.02);
    const { validation } = await loadRunData(config);
    const saved = await loadModel(join(runDir, 'model'));
    expect(rmsePixelsFromMse(await evaluateMse(saved, validation))).toBeCloseTo(metrics.bestValidRmsePx, 3);
    saved.dispose();

    // The printed summary says the time stopped it.
    const lines = runSummaryLines(metrics);
    expect(lines[0]).toContain(`best weights, epoch ${metrics.bestEpoch} of ${metrics.epochs}, restored when the time budget stopped the run`);
    expect(lines.at(-1)).toBe(`stopped by --max-time: ${metrics.stopReason}`);
  }, 120_000);

  it('callbacksOf: maxTime adds max-time and a patience-less early stopping that keeps the best weights; --patience keeps its own', () => {
    const base = { model: 'net1', epochs: 400, keypoints: 'full' } as Parameters<typeof callbacksOf>[0];
    expect(callbacksOf(base).map((c) => c.name)).not.toContain('max-time');
    const timed = callbacksOf({ ...base, maxTime: 30 });
    const es = timed.find((c) => c instanceof EarlyStoppingCallback) as EarlyStoppingCallback;
    expect(es.patience).toBe(Infinity);
    expect((timed.find((c) => c instanceof MaxTimeCallback) as MaxTimeCallback).minutes).toBe(30);
    const both = callbacksOf({ ...base, maxTime: 30, patience: 20 });
    expect(both.filter((c) => c instanceof EarlyStoppingCallback).map((c) => (c as EarlyStoppingCallback).patience)).toEqual([20]);
  });
});
