import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKeypointsError, silentLogger } from '@keypoints/core';
import { loadCallbackPlugin } from './index.js';

const options = { runDir: '/tmp/run', config: { model: 'net1' }, logger: silentLogger };

async function plugin(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kp-plugin-'));
  const file = join(dir, 'plugin.mjs');
  await writeFile(file, source);
  return file;
}

async function failure(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isKeypointsError(err, 'CONFIG_INVALID')).toBe(true);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return err as Error;
}

describe('loadCallbackPlugin', () => {
  it('loads a default-export factory from a path relative to cwd, passing the run options', async () => {
    const file = await plugin(
      "export default (o) => [{ name: 'a', onEpochEnd() {} }, { name: 'b:' + o.runDir + ':' + o.config.model, onFitEnd() {} }];",
    );
    const callbacks = await loadCallbackPlugin(relative(process.cwd(), file), options);
    expect(callbacks.map((c) => c.name)).toEqual(['a', 'b:/tmp/run:net1']);
  });

  it('falls back to a createCallback export, awaits an async factory, accepts a class instance', async () => {
    const file = await plugin(
      "class Log { name = 'log'; onEpochEnd() {} }\nexport async function createCallback() { return new Log(); }",
    );
    expect((await loadCallbackPlugin(file, options)).map((c) => c.name)).toEqual(['log']);
  });

  it('module not found: names the resolved path (or the package)', async () => {
    const err = await failure(loadCallbackPlugin('./no/such/plugin.mjs', options, { cwd: '/tmp' }));
    expect(err.message).toBe("callback plugin './no/such/plugin.mjs': module not found: /tmp/no/such/plugin.mjs");
    const pkg = await failure(loadCallbackPlugin('@keypoints/no-such-plugin', options));
    expect(pkg.message).toMatch(/^callback plugin '@keypoints\/no-such-plugin': module not found: no installed package '@keypoints\/no-such-plugin'/);
  });

  it('no default / createCallback function export: lists the exports', async () => {
    const err = await failure(loadCallbackPlugin(await plugin('export const helper = 1; export const other = {};'), options));
    expect(err.message).toMatch(/no default export or 'createCallback' export that is a function \(exports: helper, other\)/);
  });

  it('a factory result that is not a callback: lists the allowed hooks', async () => {
    for (const [source, what] of [
      ["export default () => ({ name: 'x', onEpochEnded() {} });", "'x', an object with none of the hooks"],
      ['export default () => ({ onEpochEnd() {} });', "an object without a string 'name'"],
      ['export default () => 42;', 'a number'],
      ['export default () => undefined;', 'undefined'],
    ] as const) {
      const err = await failure(loadCallbackPlugin(await plugin(source), options));
      expect(err.message).toContain(`the factory returned ${what}, not a training callback`);
      expect(err.message).toContain('onFitStart, onEpochStart, onBatchEnd, onEpochEnd, onFitEnd');
    }
    const empty = await failure(loadCallbackPlugin(await plugin('export default () => [];'), options));
    expect(empty.message).toMatch(/the factory returned no callback/);
  });

  it('a module that throws while loading: one line with its message', async () => {
    const err = await failure(loadCallbackPlugin(await plugin("throw new Error('boom at load');"), options));
    expect(err.message).toMatch(/failed to load: boom at load$/);
  });
});
