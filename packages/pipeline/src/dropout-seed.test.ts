import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '@keypoints/core';
import { resumeRun, trainRun, type NewRunConfig } from './index.js';

type Row = { epoch: number; trainLoss: number; validLoss: number };
const history = async (runDir: string): Promise<Row[]> => JSON.parse(await readFile(join(runDir, 'history.json'), 'utf8'));
const quiet = { progress: false, logger: silentLogger } as const;

describe('dropout runs are reproducible from --seed', () => {
  it('two net6 runs with the same seed give identical histories, another seed differs, and a resumed run matches an uninterrupted one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-dropout-'));
    // net6: flips and dropout 0.1/0.2/0.3/0.5; dense layers kept small so the test is quick.
    const run = (out: string, seed: number): NewRunConfig => ({ model: 'net6', maxRows: 32, epochs: 2, batchSize: 16, dense: [16, 16], backend: 'wasm', seed, out: join(dir, out) });
    const a = await history((await trainRun(run('a', 1), quiet)).runDir);
    const b = await history((await trainRun(run('b', 1), quiet)).runDir);
    expect(b).toHaveLength(2);
    // Identical training losses: same init, same batches and flips, same dropout masks.
    expect(b.map((r) => r.trainLoss)).toEqual(a.map((r) => r.trainLoss));
    expect(b.map((r) => r.validLoss)).toEqual(a.map((r) => r.validLoss));
    const c = await history((await trainRun(run('c', 2), quiet)).runDir);
    expect(c.map((r) => r.trainLoss)).not.toEqual(a.map((r) => r.trainLoss));

    // Interrupted after its first epoch, then resumed: the same masks per epoch as run a.
    const interrupt = new AbortController();
    await trainRun(run('r', 1), { ...quiet, interrupt: interrupt.signal, onEvent: (e) => e.type === 'epochStart' && interrupt.abort('test interrupt') });
    const cut = await history(join(dir, 'r'));
    expect(cut).toHaveLength(1);
    const resumed = await history((await resumeRun(join(dir, 'r'), {}, quiet)).runDir);
    expect(resumed.map((r) => r.epoch)).toEqual([0, 1]);
    for (let e = 0; e < 2; e++) {
      expect(Math.abs(resumed[e].trainLoss - a[e].trainLoss) / a[e].trainLoss, `train loss at epoch ${e}`).toBeLessThan(1e-5);
    }
  }, 120_000);
});
