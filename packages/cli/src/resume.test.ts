import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@keypoints/core';
import { readKaggleCsv, writeKaggleCsv } from '@keypoints/data';
import type { HistoryEntry } from '@keypoints/training';
import { DEFAULT_TRAINING_DATA, resumeRun, trainRun } from '@keypoints/pipeline';

/** `keypoints` from the sources: tsx's loader and the `@keypoints/source` export condition (as `npm run keypoints`). */
const CLI = ['--conditions=@keypoints/source', '--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, fileURLToPath(new URL('./main.ts', import.meta.url))];

function epochsCompleted(runDir: string): number {
  const f = join(runDir, 'checkpoints', 'last', 'state.json');
  if (!existsSync(f)) return 0;
  try {
    return JSON.parse(readFileSync(f, 'utf8')).epochsCompleted;
  } catch {
    return 0;
  }
}

describe('a run killed with SIGKILL mid-epoch and resumed', () => {
  it('continues from its last completed epoch with the same schedule position, data order and callback state', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-kill-'));
    const data = join(dir, 'slice.csv.gz');
    await writeKaggleCsv(data, await readKaggleCsv(DEFAULT_TRAINING_DATA, { maxRows: 240 }));
    const epochs = 30;
    const flags = {
      model: 'net1' as const,
      data,
      epochs,
      backend: 'wasm',
      learningRateSchedule: { start: 0.02, stop: 0.002 },
      momentumSchedule: { start: 0.9, stop: 0.95 },
      flip: true,
      patience: 50,
      seed: 3,
    };
    // Reference: the same run without interruption.
    const ref = await trainRun({ ...flags, out: join(dir, 'ref') }, { progress: false, logger: silentLogger });
    const refHistory: HistoryEntry[] = JSON.parse(await readFile(join(ref.runDir, 'history.json'), 'utf8'));

    // Killed: a separate process, SIGKILLed once a few epochs are checkpointed.
    const out = join(dir, 'killed');
    const args = [...CLI, 'train', '--model', 'net1', '--data', data, '--epochs', String(epochs), '--backend', 'wasm',
      '--lr-schedule', '0.02:0.002', '--momentum-schedule', '0.9:0.95', '--flip', '--patience', '50', '--seed', '3', '--out', out];
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    const killedAfter = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        const n = epochsCompleted(out);
        if (n >= 3) {
          child.kill('SIGKILL');
          clearInterval(timer);
          resolve(n);
        }
      }, 5);
      child.on('exit', (code, signal) => {
        clearInterval(timer);
        if (signal !== 'SIGKILL') reject(new Error(`training exited (${code}) before it could be killed`));
      });
    });
    await new Promise((r) => child.on('exit', r));
    expect(killedAfter).toBeLessThan(epochs);
    expect(existsSync(join(out, 'metrics.json'))).toBe(false); // it really died mid-run

    const resumed = await resumeRun(out, { epochs }, { progress: false, logger: silentLogger });
    const history: HistoryEntry[] = JSON.parse(await readFile(join(resumed.runDir, 'history.json'), 'utf8'));
    // No gap, no duplicate epoch.
    expect(history.map((h) => h.epoch)).toEqual([...Array(epochs).keys()]);
    for (let e = 0; e < epochs; e++) {
      expect(history[e].learningRate, `lr at epoch ${e}`).toBeCloseTo(refHistory[e].learningRate, 10);
      expect(history[e].momentum, `momentum at epoch ${e}`).toBeCloseTo(refHistory[e].momentum, 10);
      // Same data order, flips and optimizer state ⇒ the same losses (up to float noise).
      expect(Math.abs(history[e].trainLoss - refHistory[e].trainLoss) / refHistory[e].trainLoss, `train loss at epoch ${e}`).toBeLessThan(1e-3);
      expect(Math.abs(history[e].validLoss - refHistory[e].validLoss) / refHistory[e].validLoss, `valid loss at epoch ${e}`).toBeLessThan(1e-3);
    }
    expect(resumed.metrics.finalValidRmsePx).toBeCloseTo(ref.metrics.finalValidRmsePx, 2);
  });
});
