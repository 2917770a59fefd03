import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ResumeOverrides, TrainResult } from '@keypoints/pipeline';

/** What the mocked runs were called with. */
const calls = vi.hoisted(() => ({ train: [] as unknown[], resume: [] as unknown[] }));

/** A run its time budget stopped, as trainRun / resumeRun return it. */
const stoppedByTime = {
  runDir: '/tmp/runs/net1',
  end: { type: 'fitEnd', status: 'stopped', epochsCompleted: 41, durationMs: 1_776_000 },
  metrics: {
    model: 'net1',
    epochs: 41,
    validRmsePx: 3.1,
    savedModel: { epoch: 37, weights: 'best', validRmsePx: 3.1 },
    finalValidRmsePx: 3.2,
    bestValidRmsePx: 3.1,
    bestEpoch: 37,
    finalTrainRmsePx: 2.9,
    baselineValidRmsePx: 8,
    improvementOverBaseline: 1 - 3.1 / 8,
    trainCount: 840,
    validationCount: 208,
    backend: 'wasm',
    trainSeconds: 1776,
    status: 'stopped',
    stopReason: 'time budget of 30 min spent (29.6 min, 41 epochs; 24 s left, less than the last epoch\'s 42 s)',
    stoppedBy: 'max-time',
    maxTimeMinutes: 30,
  },
} as unknown as TrainResult;

vi.mock('@keypoints/pipeline', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@keypoints/pipeline')>()),
  trainRun: async (config: unknown) => {
    calls.train.push(config);
    return stoppedByTime;
  },
  resumeRun: async (dir: string, overrides: ResumeOverrides) => {
    calls.resume.push([dir, overrides]);
    return stoppedByTime;
  },
}));

const { main } = await import('./main.js');

/** Run `keypoints …args` in process; its exit status and what it printed. */
async function keypoints(...args: string[]): Promise<{ code: number | undefined; out: string }> {
  const previous = process.exitCode;
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    process.exitCode = undefined;
    await main(['node', 'keypoints', ...args]);
    return { code: process.exitCode as number | undefined, out: lines.join('\n') };
  } finally {
    process.exitCode = previous;
    log.mockRestore();
    err.mockRestore();
    stderr.mockRestore();
  }
}

afterEach(() => {
  calls.train.length = 0;
  calls.resume.length = 0;
});

describe('keypoints train --max-time MINUTES', () => {
  it('a bad value is a usage error: exit 2, nothing trained', async () => {
    for (const value of ['0', '-1', 'abc', '', 'Infinity', '1e400', '30min']) {
      const r = await keypoints('train', `--max-time=${value}`);
      expect(r.code, `--max-time=${value}`).toBe(2);
    }
    expect((await keypoints('train', '--max-time')).code).toBe(2);
    expect(calls.train).toEqual([]);
  });

  it('passes the budget in minutes (fractions too) to trainRun, leaving the epochs to the preset, and the summary names the time stop', async () => {
    const r = await keypoints('train', '--max-time', '0.5');
    expect(r.code ?? 0).toBe(0);
    expect(calls.train).toHaveLength(1);
    expect(calls.train[0]).toMatchObject({ model: 'net1', maxTime: 0.5 });
    expect((calls.train[0] as { epochs?: number }).epochs).toBeUndefined();
    expect(r.out).toContain('saved model: validation RMSE 3.100 px (best weights, epoch 37 of 41, restored when the time budget stopped the run)');
    expect(r.out).toContain("stopped by --max-time: time budget of 30 min spent (29.6 min, 41 epochs; 24 s left, less than the last epoch's 42 s)");
  });

  it('--resume with --max-time gives the run a new total budget', async () => {
    expect((await keypoints('train', '--resume', 'runs/net1', '--max-time', '60')).code ?? 0).toBe(0);
    expect(calls.resume).toEqual([['runs/net1', { epochs: undefined, backend: undefined, maxTime: 60 }]]);
  });
});
