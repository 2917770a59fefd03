// Issue 11 faults 4–6 through the CLI: empty keypoint sets / split sides fail before anything is
// written; the printed and stored headline is the saved model's; schedules keep their span on resume.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataFormatError, SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import { readKaggleCsv, writeKaggleCsv } from '@keypoints/data';
import { DEFAULT_TRAINING_DATA } from '@keypoints/pipeline';
import { buildProgram } from './main.js';

const keypoints = (...args: string[]) => buildProgram().parseAsync(['node', 'keypoints', ...args]);

/** A slice of the shipped sample with the eyebrow columns emptied, except in the rows `keep`. */
async function withoutEyebrows(dir: string, rows: number, keep: readonly number[] = []): Promise<string> {
  const table = await readKaggleCsv(DEFAULT_TRAINING_DATA, { maxRows: rows });
  const eyebrows = SPECIALIST_KEYPOINT_SETS.find((s) => s.name === 'eyebrows')!.columns;
  const values = Float32Array.from(table.keypoints);
  const width = table.columns.length;
  for (let r = 0; r < table.count; r++) {
    if (keep.includes(r)) continue;
    for (const c of eyebrows) values[r * width + table.columns.indexOf(c)] = NaN;
  }
  const file = join(dir, 'no-eyebrows.csv.gz');
  await writeKaggleCsv(file, { ...table, keypoints: values });
  return file;
}

/** Captures what `console.log` / `console.error` print (the summary goes to stdout, messages to stderr). */
function capture(): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  return { out, err };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a keypoint set with no values is a data error before training (fault 4)', () => {
  it('--missing mask and --missing drop name the file, the set and the counts; no run folder is left', async () => {
    capture();
    const dir = await mkdtemp(join(tmpdir(), 'kp-empty-set-'));
    const file = await withoutEyebrows(dir, 40);
    for (const missing of ['mask', 'drop']) {
      const out = join(dir, `run-${missing}`);
      const run = keypoints('train', '--data', file, '--keypoints', 'eyebrows', '--missing', missing, '--epochs', '2', '--backend', 'wasm', '--out', out);
      await expect(run).rejects.toBeInstanceOf(DataFormatError);
      const err = (await run.catch((e: unknown) => e)) as Error;
      const rows = missing === 'mask' ? 'rows with a value' : 'rows with every keypoint';
      expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 0 of \\d+ training and 0 of \\d+ validation ${rows} of keypoint set 'eyebrows' \\(left_eyebrow_inner_end_x, .*\\): nothing to train on`));
      expect(err.message).not.toMatch(/dataset 'full'|NaN|learning rate/);
      expect(existsSync(out), `${missing}: nothing left behind`).toBe(false);
    }
  });

  it('a split side without values (the other side has some) is the same kind of error, naming that side', async () => {
    capture();
    const dir = await mkdtemp(join(tmpdir(), 'kp-empty-side-'));
    const file = await withoutEyebrows(dir, 40, [0]); // one row keeps its eyebrows: one side gets none
    const out = join(dir, 'run');
    const err = (await keypoints('train', '--data', file, '--keypoints', 'eyebrows', '--missing', 'mask', '--epochs', '2', '--backend', 'wasm', '--out', out).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DataFormatError);
    expect(err.message).toMatch(/: (1 of \d+ training and 0 of \d+ validation|0 of \d+ training and 1 of \d+ validation) rows with a value of keypoint set 'eyebrows' .*: the (training|validation) side of the split is empty/);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    expect(existsSync(out)).toBe(false);
  });
});

// A callback plugin that shifts the output bias before the 5th and 6th epochs: they end worse than the best.
const WORSEN = `
export default () => ({
  name: 'worsen',
  order: 50,
  onEpochStart(ctx) {
    if (ctx.epoch < 4) return;
    const w = ctx.getWeights();
    w[w.length - 1] = w[w.length - 1].map((v) => v + 0.3);
    ctx.setWeights(w);
  },
});
`;

describe('the reported headline is the saved model (fault 5)', () => {
  it('with early stopping: metrics.json, the printed summary and `keypoints evaluate` agree on the restored best epoch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-headline-'));
    const plugin = join(dir, 'worsen.mjs');
    await writeFile(plugin, WORSEN);
    const out = join(dir, 'run');
    const { out: printed } = capture();
    await keypoints('train', '--data', DEFAULT_TRAINING_DATA, '--limit', '80', '--epochs', '6', '--patience', '20', '--backend', 'wasm', '--callback', plugin, '--out', out);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as Array<{ epoch: number; validRmsePx: number }>;
    const best = history.reduce((b, r) => (r.validRmsePx < b.validRmsePx ? r : b));
    expect(history.at(-1)!.validRmsePx).toBeGreaterThan(best.validRmsePx + 0.01); // the last epoch is worse
    expect(metrics.savedModel).toEqual({ epoch: best.epoch + 1, weights: 'best', validRmsePx: best.validRmsePx });
    expect(metrics.validRmsePx).toBe(best.validRmsePx);
    expect(metrics.improvementOverBaseline).toBeCloseTo(1 - best.validRmsePx / metrics.baselineValidRmsePx, 12);
    expect(metrics.finalValidRmsePx).toBe(history.at(-1)!.validRmsePx); // kept for compatibility: the last epoch's
    const first = printed.findIndex((l) => l.startsWith('saved model: '));
    expect(printed[first]).toBe(`saved model: validation RMSE ${best.validRmsePx.toFixed(3)} px (best weights, epoch ${best.epoch + 1} of 6, restored by early stopping)`);
    expect(printed.slice(first + 1).join('\n')).toContain(`last epoch (6): validation RMSE ${history.at(-1)!.validRmsePx.toFixed(3)} px`);

    printed.length = 0;
    await keypoints('evaluate', out, '--backend', 'wasm', '--json');
    const evaluation = JSON.parse(printed.join('\n'));
    expect(Math.abs(evaluation.rmsePx - metrics.validRmsePx)).toBeLessThan(1e-3);
    expect(Math.abs(evaluation.rmsePx - metrics.finalValidRmsePx)).toBeGreaterThan(0.01);
  });
});

describe('resume with a larger --epochs keeps the schedules planned (fault 6)', () => {
  it('epochs past the planned span hold the last value; the output says so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-schedule-resume-'));
    const out = join(dir, 'run');
    const { err } = capture();
    const common = ['--backend', 'wasm'];
    await keypoints('train', '--data', DEFAULT_TRAINING_DATA, '--limit', '60', '--epochs', '4', '--lr-schedule', '0.03:0.0001', '--momentum-schedule', '0.9:0.999', ...common, '--out', out);
    await keypoints('train', '--resume', out, '--epochs', '7', ...common);
    const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as Array<{ epoch: number; learningRate: number; momentum: number }>;
    expect(history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // np.linspace over the 4 planned epochs, then held: no jump back up (0.0001 → 0.0051), no momentum drop.
    const lr = [0.03, 0.03 - 0.0299 / 3, 0.03 - (2 * 0.0299) / 3, 0.0001, 0.0001, 0.0001, 0.0001];
    const momentum = [0.9, 0.9 + 0.099 / 3, 0.9 + (2 * 0.099) / 3, 0.999, 0.999, 0.999, 0.999];
    history.forEach((h, e) => {
      expect(h.learningRate, `lr at epoch ${e}`).toBeCloseTo(lr[e], 7);
      expect(h.momentum, `momentum at epoch ${e}`).toBeCloseTo(momentum[e], 7);
    });
    expect(err.join('\n')).toContain(
      'resuming with 7 epochs: the schedules keep the span they were planned over and hold their last value past it: ' +
        'learning rate 0.03 → 0.0001 over 4 epochs, then 0.0001 for epochs 5–7; momentum 0.9 → 0.999 over 4 epochs, then 0.999 for epochs 5–7',
    );
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config.epochs).toBe(7);
    expect(config.learningRateSchedule).toEqual({ start: 0.03, stop: 0.0001, epochs: 4 }); // the plan is pinned for later resumes
  });
});
