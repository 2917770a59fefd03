import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isKeypointsError } from '@keypoints/core';
import { buildProgram } from './main.js';

/** What the test plugin saw (the plugin module runs in this process and writes here). */
interface Seen {
  runDir: string;
  model: unknown;
  epochs: number[];
  status?: string;
}
const g = globalThis as { __kpSeen?: Seen };

const PLUGIN = `
export default function (options) {
  const seen = (globalThis.__kpSeen = { runDir: options.runDir, model: options.config.model, epochs: [] });
  return {
    name: 'test-plugin',
    onEpochEnd: (ctx) => void seen.epochs.push(ctx.epoch),
    onFitEnd: (ctx) => void (seen.status = ctx.status),
  };
}
`;

afterEach(() => {
  vi.restoreAllMocks();
  delete g.__kpSeen;
});

describe('keypoints train --callback <module>', () => {
  it('loads ./plugin.mjs and @keypoints/callback-jsonl, trains net1 for 2 epochs on a small --limit; the hooks ran and epochs.jsonl matches history.json', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const dir = await mkdtemp(join(tmpdir(), 'kp-cli-callback-'));
    const pluginFile = join(dir, 'plugin.mjs');
    await writeFile(pluginFile, PLUGIN);
    const out = join(dir, 'run');
    const rel = relative(process.cwd(), pluginFile);
    await buildProgram().parseAsync(
      ['train', '--model', 'net1', '--limit', '64', '--epochs', '2', '--backend', 'wasm', '--out', out, '--callback', `./${rel}`, '--callback', '@keypoints/callback-jsonl'],
      { from: 'user' },
    );
    expect(g.__kpSeen).toEqual({ runDir: out, model: 'net1', epochs: [0, 1], status: 'completed' });
    const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8'));
    const lines = (await readFile(join(out, 'epochs.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(history).toHaveLength(2);
    expect(lines).toHaveLength(3);
    for (let e = 0; e < 2; e++) {
      const { epoch, ...logs } = history[e];
      expect(lines[e]).toEqual({ epoch: epoch + 1, ...logs });
    }
    expect(lines[2]).toEqual({ event: 'fitEnd', status: 'completed', epochsCompleted: 2 });
    // The run directory is still complete (written by the run-directory / learning-curve callbacks).
    for (const f of ['config.json', 'history.csv', 'learning-curve.svg', 'metrics.json', 'model/model.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(Object.keys(metrics)).toEqual([
      'model', 'modelName', 'keypoints', 'columns', 'parameters', 'epochs', 'validRmsePx', 'savedModel', 'finalValidRmsePx', 'bestValidRmsePx', 'bestEpoch',
      'finalTrainRmsePx', 'baselineValidRmsePx', 'improvementOverBaseline', 'trainCount', 'validationCount', 'backend',
      'trainSeconds', 'status', 'data', 'splitGroupedBy',
    ]);
    expect(metrics.finalValidRmsePx).toBeCloseTo(history[1].validRmsePx, 10);
    expect(metrics.savedModel).toEqual({ epoch: 2, weights: 'last', validRmsePx: metrics.finalValidRmsePx });
    expect(metrics.trainCount + metrics.validationCount).toBe(64);
  });

  it('bad plugins fail before training with one-line errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-cli-badplugin-'));
    const noFactory = join(dir, 'no-factory.mjs');
    await writeFile(noFactory, 'export const x = 1;');
    const notCallback = join(dir, 'not-callback.mjs');
    await writeFile(notCallback, "export default () => ({ name: 'oops', onEpochEnded() {} });");
    const run = async (spec: string) => {
      const err = await buildProgram()
        .parseAsync(['train', '--model', 'net1', '--limit', '16', '--epochs', '1', '--out', join(dir, 'run'), '--callback', spec], { from: 'user' })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isKeypointsError(err, 'CONFIG_INVALID'), String(err)).toBe(true);
      expect((err as Error).message).not.toContain('\n');
      return (err as Error).message;
    };
    expect(await run('./does/not/exist.mjs')).toBe(`callback plugin './does/not/exist.mjs': module not found: ${join(process.cwd(), 'does/not/exist.mjs')}`);
    expect(await run(noFactory)).toMatch(/no default export or 'createCallback' export that is a function \(exports: x\)/);
    expect(await run(notCallback)).toMatch(
      /the factory returned 'oops', an object with none of the hooks, not a training callback; .*onFitStart, onEpochStart, onBatchEnd, onEpochEnd, onFitEnd/,
    );
    expect(existsSync(join(dir, 'run', 'config.json'))).toBe(true); // a factory runs once the run directory exists
    expect(existsSync(join(dir, 'run', 'history.json'))).toBe(false); // but nothing trained
  });
});
