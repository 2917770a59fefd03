import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@keypoints/core';
import { HistoryCallback, RunDirectoryCallback, Trainer, type BatchSource } from '@keypoints/training';
import createJsonlCallback, { EPOCHS_JSONL, JsonlCallback } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** 32 samples of 8×8×1 → 2 targets (a fixed linear map), 2 batches per epoch. */
function tiny(): { data: { count: number; images: Float32Array; targets: Float32Array; mask: Float32Array }; batches: BatchSource; model: tf.LayersModel } {
  const n = 32;
  const images = Float32Array.from({ length: n * 64 }, (_, i) => ((i * 7919) % 101) / 101);
  const targets = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) for (let p = 0; p < 64; p++) targets[i * 2 + (p % 2)] += images[i * 64 + p] * 0.01;
  const data = { count: n, images, targets, mask: new Float32Array(n * 2).fill(1) };
  const batches: BatchSource = {
    count: n,
    batchesPerEpoch: 2,
    *epoch() {
      for (const s of [0, 16]) {
        yield { size: 16, images: images.slice(s * 64, (s + 16) * 64), targets: targets.slice(s * 2, (s + 16) * 2), mask: new Float32Array(32).fill(1) };
      }
    },
  };
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })],
  });
  return { data, batches, model };
}

describe('JsonlCallback', () => {
  it('the factory writes <runDir>/epochs.jsonl: one line per epoch matching the history, then fitEnd', async () => {
    const runDir = await mkdtemp(join(tmpdir(), 'kp-jsonl-'));
    const plugin = createJsonlCallback({ runDir, config: {}, logger: silentLogger });
    expect(plugin.file).toBe(join(runDir, EPOCHS_JSONL));
    const history = new HistoryCallback();
    const { data, batches, model } = tiny();
    await lastValueFrom(new Trainer({}, [history, plugin, new RunDirectoryCallback({ dir: runDir })]).fit(model, batches, data, { epochs: 2 }));
    const lines = (await readFile(plugin.file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const saved = JSON.parse(await readFile(join(runDir, 'history.json'), 'utf8'));
    for (let e = 0; e < 2; e++) {
      const { epoch, ...logs } = saved[e];
      expect(lines[e]).toEqual({ epoch: epoch + 1, ...logs });
      expect(lines[e].validRmsePx).toBe(history.entries[e].validRmsePx);
    }
    expect(lines[2]).toEqual({ event: 'fitEnd', status: 'completed', epochsCompleted: 2 });
  });

  it('writes null for a missing validation set, the stop reason, and truncates on a new fit', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'kp-jsonl-')), 'sub', 'log.jsonl');
    const stop = { name: 'stop', onEpochEnd: (ctx: { requestStop(r: string): void }) => ctx.requestStop('one epoch') };
    const cb = new JsonlCallback({ file });
    for (let i = 0; i < 2; i++) {
      const { batches, model } = tiny();
      await lastValueFrom(new Trainer({}, [stop, cb]).fit(model, batches, undefined, { epochs: 5 }));
    }
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ epoch: 1, validLoss: null, validRmsePx: null });
    expect(lines[1]).toEqual({ event: 'fitEnd', status: 'stopped', stopReason: 'one epoch', epochsCompleted: 1 });
    expect(() => new JsonlCallback({ file: '' })).toThrow(/file is required/);
  });
});
