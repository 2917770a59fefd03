import { cp, mkdtemp, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeypointsError } from '@keypoints/core';
import {
  CHECKPOINT_MANIFEST,
  CheckpointCallback,
  CheckpointDamagedError,
  EarlyStoppingCallback,
  HistoryCallback,
  Trainer,
  linearLearningRate,
  linearMomentum,
  loadCheckpoint,
  loadLatestCheckpoint,
  verifyCheckpoint,
} from './index.js';
import { model, problem, source } from './test-problem.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const callbacks = (dir: string, patience = 50) => [
  linearLearningRate(0.05, 0.005),
  linearMomentum(0.9, 0.99),
  new EarlyStoppingCallback({ patience }),
  new HistoryCallback(),
  new CheckpointCallback({ dir }),
];

/** Train `epochs` epochs with checkpoints into `dir`; returns numTensors after each epoch's callbacks. */
async function train(dir: string, epochs: number): Promise<number[]> {
  const tensors: number[] = [];
  const m = model();
  const events = new Trainer({}, callbacks(dir)).fit(m, source(problem(48)), problem(16, 2), { epochs });
  await new Promise<void>((resolve, reject) =>
    events.subscribe({ next: (e) => void (e.type === 'epochEnd' && tensors.push(tf.memory().numTensors)), complete: resolve, error: reject }),
  );
  m.dispose();
  return tensors;
}

/** Copy a checkpoint folder and make its manifest claim `epochs` (a complete, verified folder of another epoch). */
async function filesOf(dir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(dir, CHECKPOINT_MANIFEST), 'utf8')) as { files: Record<string, unknown> };
  return [...Object.keys(manifest.files), CHECKPOINT_MANIFEST];
}

describe('checkpoints: no tensor leak (issue 11, fault 1)', () => {
  it('numTensors after epoch 2 equals numTensors after the last epoch, with checkpoints, schedules and early stopping', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-leak-'));
    const tensors = await train(dir, 10);
    // tfjs's optimizer.getWeights() makes an `iter` scalar per call; it leaked one tensor per epoch before.
    expect(tensors.slice(1)).toEqual(Array(tensors.length - 1).fill(tensors[1]));
  });
});

describe('checkpoints: resume takes the newest complete and verified one (issue 11, fault 2)', () => {
  it('after interrupted swaps, picks the leftover with the most epochs, promotes it to last and removes the rest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-leftover-'));
    await train(dir, 4); // last = 4, previous = 3, best ≤ 4
    // The states two crashes between the renames leave: no `last`, its complete copies beside it,
    // the older one under a name that sorts AFTER the newer one (the old code picked by string order).
    await rename(join(dir, 'last'), join(dir, '.last.old-9-0000'));
    await cp(join(dir, 'previous'), join(dir, '.last.old-10-ffff'), { recursive: true });
    await rm(join(dir, 'previous'), { recursive: true });
    await rm(join(dir, 'best'), { recursive: true });
    // …and an unfinished temporary folder (a kill mid-write: no manifest).
    await cp(join(dir, '.last.old-9-0000'), join(dir, '.last.tmp-abc123'), { recursive: true });
    await rm(join(dir, '.last.tmp-abc123', CHECKPOINT_MANIFEST));
    const warnings: string[] = [];
    const latest = await loadLatestCheckpoint(dir, { warn: (m) => warnings.push(m) });
    expect(latest.state.epochsCompleted).toBe(4);
    expect(latest.dir).toBe(join(dir, 'last'));
    expect((await readdir(dir)).sort()).toEqual(['last']);
    expect(latest.removed).toHaveLength(2);
    expect(warnings).toEqual([]);
    latest.model.dispose();
  });

  it('keeps best when a kill hit between the two renames of its swap (restores it from the leftovers)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-best-'));
    await train(dir, 3);
    const bestEpochs = (await verifyCheckpoint(join(dir, 'best'))).epochsCompleted;
    // Between the renames: best moved aside, the new one still in its temporary folder.
    await rename(join(dir, 'best'), join(dir, '.best.old-77-abcd'));
    await cp(join(dir, '.best.old-77-abcd'), join(dir, '.best.tmp-Q1w2e3'), { recursive: true });
    const latest = await loadLatestCheckpoint(dir);
    expect(latest.state.epochsCompleted).toBe(3);
    expect((await readdir(dir)).sort()).toEqual(['best', 'last', 'previous']);
    expect((await verifyCheckpoint(join(dir, 'best'))).epochsCompleted).toBe(bestEpochs);
    latest.model.dispose();
  });

  it('takes a complete temporary folder (killed after the write, before the swap) when it is the newest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-tmp-'));
    await train(dir, 3);
    await rename(join(dir, 'last'), join(dir, '.last.tmp-Zz9'));
    const latest = await loadLatestCheckpoint(dir);
    expect(latest.state.epochsCompleted).toBe(3);
    expect(latest.dir).toBe(join(dir, 'last'));
    latest.model.dispose();
  });

  it('prefers best when it is newer than last (checkpoints every 2 epochs)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-every-'));
    const m = model();
    await lastValueFrom(new Trainer({}, [new HistoryCallback(), new CheckpointCallback({ dir, every: 2 })]).fit(m, source(problem(48)), problem(16, 2), { epochs: 3 }));
    // The fit's end always writes last: make last the epoch-2 one again (as if killed before epoch 3's end).
    await rm(join(dir, 'last'), { recursive: true });
    await rename(join(dir, 'previous'), join(dir, 'last'));
    const best = await verifyCheckpoint(join(dir, 'best'));
    const last = await verifyCheckpoint(join(dir, 'last'));
    const latest = await loadLatestCheckpoint(dir);
    expect(latest.state.epochsCompleted).toBe(Math.max(best.epochsCompleted, last.epochsCompleted));
    latest.model.dispose();
    m.dispose();
  });
});

describe('checkpoints: verified on load (issue 11, fault 3)', () => {
  it('every file truncated or with one flipped byte is detected, named, and resume falls back to previous', async () => {
    const base = await mkdtemp(join(tmpdir(), 'kp-corrupt-'));
    const pristine = join(base, 'pristine');
    await train(pristine, 3);
    const files = await filesOf(join(pristine, 'last'));
    expect(files.sort()).toEqual(['callbacks.bin', 'manifest.json', 'model/model.json', 'model/weights.bin', 'optimizer.bin', 'state.json']);
    let n = 0;
    for (const file of files) {
      for (const damage of ['truncate', 'flip'] as const) {
        const dir = join(base, `case-${n++}`);
        await cp(pristine, dir, { recursive: true });
        const path = join(dir, 'last', ...file.split('/'));
        if (damage === 'truncate') await truncate(path, Math.floor((await readFile(path)).length / 3));
        else {
          const bytes = await readFile(path);
          bytes[Math.floor(bytes.length / 2)] ^= 0x01;
          await writeFile(path, bytes);
        }
        const err = await verifyCheckpoint(join(dir, 'last')).catch((e: unknown) => e);
        expect(err, `${damage} ${file}`).toBeInstanceOf(CheckpointDamagedError);
        expect((err as CheckpointDamagedError).file, `${damage} ${file}`).toBe(file);
        expect((err as Error).message).toContain(join(dir, 'last'));
        const warnings: string[] = [];
        const latest = await loadLatestCheckpoint(dir, { warn: (m) => warnings.push(m) });
        expect(latest.state.epochsCompleted, `${damage} ${file}`).toBe(2); // previous/
        expect(warnings.join('\n')).toContain(file);
        latest.model.dispose();
      }
    }
  });

  it('with no good checkpoint left, fails with one line naming the file (not a tfjs shape error)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-nogood-'));
    await train(dir, 1);
    await rm(join(dir, 'best'), { recursive: true });
    const path = join(dir, 'last', 'optimizer.bin');
    await truncate(path, 249);
    const err = await loadLatestCheckpoint(dir).catch((e: unknown) => e);
    expect(isKeypointsError(err, 'MODEL_IO')).toBe(true);
    expect((err as Error).message).toMatch(/optimizer\.bin has 249 bytes, expected \d+/);
    expect((err as Error).message).not.toContain('\n');
    await expect(loadCheckpoint(join(dir, 'last'))).rejects.toThrow(/damaged checkpoint .*optimizer\.bin/);
  });
});
