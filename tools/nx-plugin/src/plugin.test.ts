/**
 * The plugin against the real workspace: the targets it infers for every project, the experiment
 * targets against EXPERIMENTS and SPECIALIST_KEYPOINT_SETS (the sources of truth), the flags the
 * executor passes, and the hasher's file inputs (a data file's bytes, a pre-trained run's model).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import { EXPERIMENTS } from '@keypoints/experiments';

// The plugin is CommonJS (nx requires it without a TypeScript transpiler); load it as nx does. This
// file is CommonJS too for tsc (the package's type), hence __filename rather than import.meta.
const require = createRequire(__filename);
type Target = { executor?: string; options?: Record<string, unknown>; outputs?: string[]; dependsOn?: string[]; cache?: boolean; metadata?: { description?: string } };
type Result = readonly [string, { projects: Record<string, { targets: Record<string, Target> }> }];
type Hash = { value: string; details: { command: string; nodes: Record<string, string>; implicitDeps?: Record<string, string> } };
const plugin = require('./index.js') as {
  name: string;
  createNodes: readonly [string, (files: readonly string[], options: unknown, context: { workspaceRoot: string; nxJsonConfiguration: object }) => Promise<Result[]>];
  createNodesV2: unknown;
};
const { runnerFlags, taskOptions, hashFileInputs } = require('./run-options.js') as {
  runnerFlags(options: Record<string, unknown>): string[];
  taskOptions(task: object, projects: object): Record<string, unknown>;
  hashFileInputs(options: Record<string, unknown>, root: string): Promise<{ value: string; files: Record<string, string> }>;
};
const experimentHasher = require('./experiment.hasher.js') as (task: object, context: object) => Promise<Hash>;

const ROOT = resolve(__dirname, '../../..');
const PROJECT_FILES = ['packages', 'plugins', 'tools'].flatMap((group) =>
  readdirSync(join(ROOT, group))
    .filter((d) => existsSync(join(ROOT, group, d, 'package.json')))
    .map((d) => `${group}/${d}/package.json`),
);

async function inferred(): Promise<Record<string, Record<string, Target>>> {
  const results = await plugin.createNodes[1](PROJECT_FILES, undefined, { workspaceRoot: ROOT, nxJsonConfiguration: {} });
  return Object.fromEntries(results.flatMap(([, r]) => Object.entries(r.projects).map(([root, p]) => [root, p.targets])));
}

const tmp = mkdtempSync(join(tmpdir(), 'nx-plugin-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('@keypoints/nx-plugin createNodes', () => {
  it('matches every project folder and is exported under both nx names', () => {
    expect(plugin.createNodes[0]).toBe('{packages,plugins,tools}/*/package.json');
    expect(plugin.createNodesV2).toBe(plugin.createNodes);
    expect(PROJECT_FILES).toContain('packages/data/package.json');
  });

  it('infers test for every project, typecheck where a tsconfig.json is, build where a tsconfig.build.json is', async () => {
    const targets = await inferred();
    for (const file of PROJECT_FILES) {
      const root = file.replace(/\/package\.json$/, '');
      const t = targets[root];
      expect(t.test.options?.command, root).toBe(`vitest run --passWithNoTests ${root}/`);
      expect(t.test.cache).toBe(true);
      expect(Boolean(t.typecheck), root).toBe(existsSync(join(ROOT, root, 'tsconfig.json')));
      expect(Boolean(t.build), root).toBe(existsSync(join(ROOT, root, 'tsconfig.build.json')));
    }
    expect(targets['packages/pipeline'].build).toMatchObject({
      options: { command: 'tsc -b packages/pipeline/tsconfig.build.json' },
      outputs: ['{projectRoot}/dist'],
      dependsOn: ['^build'],
      cache: true,
    });
    expect(targets['packages/data'].typecheck.options?.command).toBe('tsc -p packages/data/tsconfig.json --noEmit');
    expect(targets['tools/workspace'].build).toBeUndefined();
  });

  it('gives the experiments project one target per experiment and the specialists, ladder and data targets', async () => {
    const t = (await inferred())['packages/experiments'];
    for (const e of EXPERIMENTS) {
      expect(t[e.name], e.name).toMatchObject({
        executor: '@keypoints/nx-plugin:experiment',
        cache: true,
        options: { script: 'packages/experiments/src/run.ts', args: [e.name], out: `runs/${e.name}`, defaultData: 'packages/sample-data/data/training.csv.gz' },
        outputs: ['{options.out}'],
      });
      expect(t[e.name].metadata?.description).toContain(e.description);
    }
    const groups = SPECIALIST_KEYPOINT_SETS.map((s) => s.name);
    expect(t.specialists).toMatchObject({ dependsOn: ['net6'], options: { script: 'packages/cli/src/main.ts', args: ['train-specialists'], pretrained: 'runs/net6', out: 'runs/specialists' } });
    for (const g of groups) {
      const name = `specialist-${g.replace(/_/g, '-')}`;
      expect(t[name], name).toMatchObject({ dependsOn: ['net6'], options: { only: g, manifest: false, pretrained: 'runs/net6' }, outputs: [`{options.out}/${g}`] });
      expect(t[name].metadata?.description).toContain(`specialist ${g}`);
    }
    expect(t['specialists-manifest'].dependsOn).toEqual(groups.map((g) => `specialist-${g.replace(/_/g, '-')}`));
    expect(t['specialists-manifest'].options).toMatchObject({ manifestOnly: true });
    expect(t.ladder).toMatchObject({ dependsOn: ['youtube-faces-data'], options: { script: 'packages/experiments/src/ladder.ts', epochs: 40, out: 'runs/ladder40' } });
    expect(t['specialists-equal-time']).toMatchObject({ dependsOn: ['youtube-faces-data'], options: { script: 'packages/experiments/src/specialists-equal-time.ts', minutes: 30 } });
    expect(t.ablation).toMatchObject({ dependsOn: ['youtube-faces-data'], options: { script: 'packages/experiments/src/ablation.ts', epochs: 12, out: 'runs/ablation' } });
    expect(t['youtube-faces-data'].options).toMatchObject({ script: 'packages/data/src/convert/make-sample.ts', args: ['--all'], out: 'runs/data/youtube-faces' });
    const experimentTargets = Object.keys(t).filter((k) => !['test', 'typecheck', 'build'].includes(k));
    expect(experimentTargets.sort()).toEqual(
      [...EXPERIMENTS.map((e) => e.name), 'specialists', ...groups.map((g) => `specialist-${g.replace(/_/g, '-')}`), 'specialists-manifest', 'ladder', 'ablation', 'specialists-equal-time', 'youtube-faces-data'].sort(),
    );
    for (const [name, target] of Object.entries(t)) expect(target.metadata?.description, name).toBeTruthy();
  });
});

describe('experiment executor flags', () => {
  it('turns options into the runner flags the runners declare, leaving its own options out', () => {
    expect(
      runnerFlags({ script: 's.ts', args: ['net1'], defaultData: 'd', runInputs: ['x'], out: 'runs/a', epochs: 2, batchSize: 64, manifest: false, manifestOnly: true, only: ['eye_center', 'nose_tip'], 'no-op': undefined }),
    ).toEqual(['--out', 'runs/a', '--epochs', '2', '--batch-size', '64', '--no-manifest', '--manifest-only', '--only', 'eye_center,nose_tip']);
  });

  it('merges target options, configuration and command-line overrides (kebab or camel case), the overrides last', () => {
    const projects = { experiments: { root: 'packages/experiments', targets: { net1: { options: { out: 'runs/net1', epochs: 400 }, configurations: { quick: { epochs: 5 } } } } } };
    const task = { id: 'experiments:net1', target: { project: 'experiments', target: 'net1', configuration: 'quick' }, overrides: { data: '/tmp/x.csv.gz', 'batch-size': 32, __overrides_unparsed__: ['--data=/tmp/x.csv.gz'] }, outputs: [], projectRoot: 'packages/experiments' };
    expect(taskOptions(task, projects)).toEqual({ out: 'runs/net1', epochs: 5, data: '/tmp/x.csv.gz', batchSize: 32 });
  });

  it('passes --max-time through to the runner (npx nx run experiments:net1 --max-time=0.5)', () => {
    const projects = { experiments: { root: 'packages/experiments', targets: { net1: { options: { script: 'packages/experiments/src/run.ts', args: ['net1'], out: 'runs/net1' } } } } };
    const task = { id: 'experiments:net1', target: { project: 'experiments', target: 'net1' }, overrides: { 'max-time': 0.5, __overrides_unparsed__: ['--max-time=0.5'] }, outputs: [], projectRoot: 'packages/experiments' };
    expect(runnerFlags(taskOptions(task, projects))).toEqual(['--out', 'runs/net1', '--max-time', '0.5']);
  });
});

describe('experiment hasher', () => {
  const nxHash = { value: '1234', details: { command: 'c', nodes: { n: '1' } } };
  // nx's own part of the hash (sources, overrides) is computed by nx; here it is constant, so any
  // change of the value below comes from the files the hasher reads.
  const context = (options: Record<string, unknown>) => ({
    hasher: { hashTask: async () => nxHash },
    taskGraph: { tasks: {}, dependencies: {}, roots: [] },
    projectsConfigurations: { version: 2, projects: { experiments: { root: 'packages/experiments', targets: { t: { executor: '@keypoints/nx-plugin:experiment', options } } } } },
    nxJsonConfiguration: {},
  });
  const task = (overrides: Record<string, unknown> = {}) => ({ id: 'experiments:t', target: { project: 'experiments', target: 't' }, overrides, outputs: [], projectRoot: 'packages/experiments' });

  it("changes when the --data file's bytes change, and only then", async () => {
    const data = join(tmp, 'training.csv.gz');
    cpSync(join(ROOT, 'packages/sample-data/data/training.csv.gz'), data);
    const ctx = context({ script: 'packages/experiments/src/run.ts', args: ['net1'], out: 'runs/net1', defaultData: 'packages/sample-data/data/training.csv.gz' });
    const first = await experimentHasher(task({ data }), ctx);
    expect(first.value).not.toBe(nxHash.value);
    expect(first.details.implicitDeps?.[`data:${data}`]).toMatch(/^[0-9a-f]{64}$/);
    expect((await experimentHasher(task({ data }), ctx)).value).toBe(first.value);
    writeFileSync(data, Buffer.concat([Buffer.from('x'), Buffer.alloc(10)]));
    expect((await experimentHasher(task({ data }), ctx)).value).not.toBe(first.value);
    // Without --data: the default data file is hashed (and differs from the modified copy).
    const byDefault = await experimentHasher(task(), ctx);
    expect(byDefault.details.implicitDeps?.['data:packages/sample-data/data/training.csv.gz']).toMatch(/^[0-9a-f]{64}$/);
    expect(byDefault.value).not.toBe(first.value);
  });

  it("changes when the pre-trained run's weights, config or data change, and reads the data file its config names", async () => {
    const run = join(tmp, 'net6');
    mkdirSync(join(run, 'model'), { recursive: true });
    const data = join(tmp, 'pretrained-data.csv');
    writeFileSync(data, 'a,b\n1,2\n');
    writeFileSync(join(run, 'config.json'), JSON.stringify({ model: 'net6', data }));
    writeFileSync(join(run, 'model', 'model.json'), '{"format":"layers-model"}');
    writeFileSync(join(run, 'model', 'weights.bin'), Buffer.from([1, 2, 3, 4]));
    const ctx = context({ script: 'packages/cli/src/main.ts', args: ['train-specialists'], pretrained: 'runs/net6', out: 'runs/specialists' });
    const hash = async () => (await experimentHasher(task({ pretrained: relative(ROOT, run) }), ctx)).value;
    const first = await hash();
    expect(await hash()).toBe(first);
    writeFileSync(join(run, 'model', 'weights.bin'), Buffer.from([1, 2, 3, 5]));
    const second = await hash();
    expect(second).not.toBe(first);
    writeFileSync(data, 'a,b\n1,3\n');
    const third = await hash();
    expect(third).not.toBe(second);
    writeFileSync(join(run, 'config.json'), JSON.stringify({ model: 'net6', data, seed: 1 }));
    expect(await hash()).not.toBe(third);
  });

  it('hashes runInputs with {options.*} interpolated, and a missing file as missing', async () => {
    const out = join(tmp, 'specialists');
    const options = { out: relative(ROOT, out), runInputs: ['{options.out}/eye_center/metrics.json'] };
    const missing = await hashFileInputs(options, ROOT);
    expect(Object.values(missing.files)).toEqual(['missing']);
    mkdirSync(join(out, 'eye_center'), { recursive: true });
    writeFileSync(join(out, 'eye_center', 'metrics.json'), '{"epochs":1}');
    const present = await hashFileInputs(options, ROOT);
    expect(present.value).not.toBe(missing.value);
  });
});
