// @ts-check
'use strict';
/**
 * The targets the plugin infers, as pure functions of a project's files and of the experiment
 * catalog (no file system access here, so the test can check them directly).
 */

/** @typedef {import('nx/src/config/workspace-json-project-json').TargetConfiguration} TargetConfiguration */
/** @typedef {import('./catalog.js').ExperimentCatalog} ExperimentCatalog */

/** The executor of the experiment targets. */
const EXPERIMENT_EXECUTOR = '@keypoints/nx-plugin:experiment';
/** The data file `run.ts` trains on without `--data` (DEFAULT_TRAINING_DATA, the embedded sample). */
const DEFAULT_DATA = 'packages/sample-data/data/training.csv.gz';
/** The pre-trained run of the specialists. */
const SPECIALISTS_PRETRAINED = 'runs/net6';
/** Where the specialists go. */
const SPECIALISTS_OUT = 'runs/specialists';
/** The files of this plugin that decide how an experiment runs and hashes. */
const EXECUTOR_INPUTS = [
  '{workspaceRoot}/tools/nx-plugin/executors.json',
  '{workspaceRoot}/tools/nx-plugin/src/experiment.*',
  '{workspaceRoot}/tools/nx-plugin/src/run-options.js',
];
/** Inputs of a training run: the experiments project, every library it runs, this executor. */
const EXPERIMENT_INPUTS = ['default', '^production', ...EXECUTOR_INPUTS];

/**
 * `build` (when the project has a `tsconfig.build.json`), `test` and `typecheck` (when it has a
 * `tsconfig.json`) of the project at `root`.
 * @param {string} root project root, relative to the workspace root (`packages/data`)
 * @param {{ hasBuildConfig: boolean, hasTsconfig: boolean }} files
 * @returns {Record<string, TargetConfiguration>}
 */
function projectTargets(root, files) {
  /** @type {Record<string, TargetConfiguration>} */
  const targets = {};
  if (files.hasBuildConfig) {
    targets.build = {
      executor: 'nx:run-commands',
      options: { command: `tsc -b ${root}/tsconfig.build.json`, cwd: '{workspaceRoot}' },
      cache: true,
      dependsOn: ['^build'],
      inputs: ['production', '^production', '{workspaceRoot}/tsconfig.build.base.json'],
      outputs: ['{projectRoot}/dist'],
      metadata: { description: `compile ${root}/src to ${root}/dist (.js, .d.ts, source maps) with tsc -b ${root}/tsconfig.build.json` },
    };
  }
  targets.test = {
    executor: 'nx:run-commands',
    // A directory filter with the trailing slash: the root vitest.config.ts (conditions, pool,
    // timeouts) applies, and only this project's test files run.
    options: { command: `vitest run --passWithNoTests ${root}/`, cwd: '{workspaceRoot}' },
    cache: true,
    inputs: ['default', '^production', '{workspaceRoot}/vitest.config.ts'],
    outputs: [],
    metadata: { description: `vitest on ${root}/ (the root vitest.config.ts; passes when the project has no tests)` },
  };
  if (files.hasTsconfig) {
    targets.typecheck = {
      executor: 'nx:run-commands',
      options: { command: `tsc -p ${root}/tsconfig.json --noEmit`, cwd: '{workspaceRoot}' },
      cache: true,
      inputs: ['default', '^production'],
      outputs: [],
      metadata: { description: `tsc --noEmit over ${root}/tsconfig.json (sources and tests, dependencies through @keypoints/source)` },
    };
  }
  return targets;
}

/**
 * @param {string} group `mouth_corners_top_lip`
 * @returns {string} `specialist-mouth-corners-top-lip`
 */
function specialistTarget(group) {
  return `specialist-${group.replace(/_/g, '-')}`;
}

/**
 * @param {number} n
 * @returns {string}
 */
function count(n) {
  return ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'][n] ?? String(n);
}

/**
 * The targets of the experiments project, one per catalog entry: `<experiment>` (net1 … net8),
 * `specialists`, `specialist-<group>` per group, `specialists-manifest`, `youtube-faces-data` and
 * `ladder`, `ablation`, `specialists-equal-time`. Each runs a runner of packages/experiments/src (or the data converter) through the
 * {@link EXPERIMENT_EXECUTOR}; overrides on the command line become the runner's flags
 * (`nx run experiments:net1 --epochs=2 --data=FILE`).
 * @param {ExperimentCatalog} catalog
 * @returns {Record<string, TargetConfiguration>}
 */
function experimentTargets(catalog) {
  /** @type {Record<string, TargetConfiguration>} */
  const targets = {};
  const experiment = (/** @type {TargetConfiguration} */ t) => ({
    executor: EXPERIMENT_EXECUTOR,
    cache: true,
    inputs: EXPERIMENT_INPUTS,
    // Relative to the workspace root (nx rejects `{workspaceRoot}/{options.out}` as a root glob).
    outputs: ['{options.out}'],
    ...t,
  });
  for (const e of catalog.experiments) {
    targets[e.name] = experiment({
      options: { script: 'packages/experiments/src/run.ts', args: [e.name], out: `runs/${e.name}`, defaultData: DEFAULT_DATA },
      metadata: { description: `${e.source}: ${e.description} → runs/${e.name}/ (override with --epochs, --max-time, --data, --out, --backend)` },
    });
  }

  const groups = catalog.specialists;
  // The specialists are the CLI's `train-specialists` command run from the sources (a tool the target
  // calls, not a code dependency of the experiments app): one definition of its options and exit codes.
  const specialists = { script: 'packages/cli/src/main.ts', args: ['train-specialists'], pretrained: SPECIALISTS_PRETRAINED, out: SPECIALISTS_OUT };
  const specialistInputs = [...EXPERIMENT_INPUTS, '{workspaceRoot}/packages/cli/src/**/*.ts', '!{workspaceRoot}/packages/cli/src/**/*.test.ts'];
  targets.specialists = experiment({
    inputs: specialistInputs,
    dependsOn: ['net6'],
    options: { ...specialists },
    metadata: {
      description: `Nouri 2014 specialists: the ${count(groups.length)} keypoint groups in parallel worker processes, pre-trained from ${SPECIALISTS_PRETRAINED} → ${SPECIALISTS_OUT}/ (specialists.json: wall vs sequential time)`,
    },
  });
  for (const g of groups) {
    targets[specialistTarget(g)] = experiment({
      inputs: specialistInputs,
      dependsOn: ['net6'],
      options: { ...specialists, only: g, manifest: false },
      outputs: [`{options.out}/${g}`],
      metadata: {
        description: `Nouri 2014 specialist ${g}, pre-trained from ${SPECIALISTS_PRETRAINED} → ${SPECIALISTS_OUT}/${g}/ (one of ${count(groups.length)}; nx run-many / distributed task execution)`,
      },
    });
  }
  targets['specialists-manifest'] = experiment({
    inputs: specialistInputs,
    dependsOn: groups.map(specialistTarget),
    // The manifest is made of the specialists' run directories: hash what it reads of them.
    options: { ...specialists, manifestOnly: true, runInputs: groups.flatMap((g) => [`{options.out}/${g}/metrics.json`, `{options.out}/${g}/config.json`]) },
    outputs: ['{options.out}/specialists.json'],
    metadata: {
      description: `the ${count(groups.length)} specialist-* targets (spread by nx over processes or machines), then ${SPECIALISTS_OUT}/specialists.json from their run directories`,
    },
  });

  targets['youtube-faces-data'] = experiment({
    inputs: ['{workspaceRoot}/packages/data/src/**/*.ts', '^production', ...EXECUTOR_INPUTS],
    // make-sample reads ../shared/data without --data: hash that folder's contents.
    options: { script: 'packages/data/src/convert/make-sample.ts', args: ['--all'], out: 'runs/data/youtube-faces', defaultData: '../shared/data' },
    metadata: { description: 'convert the whole YouTube-Faces set (../shared/data) to runs/data/youtube-faces/training.csv.gz' },
  });
  targets.ladder = experiment({
    dependsOn: ['youtube-faces-data'],
    options: { script: 'packages/experiments/src/ladder.ts', data: 'runs/data/youtube-faces/training.csv.gz', epochs: 40, out: 'runs/ladder40' },
    metadata: { description: 'net1..net6 with one equal epoch budget (40 epochs) on the full converted YouTube-Faces set (docs/results.md)' },
  });
  targets.ablation = experiment({
    dependsOn: ['youtube-faces-data'],
    options: { script: 'packages/experiments/src/ablation.ts', data: 'runs/data/youtube-faces/training.csv.gz', epochs: 12, out: 'runs/ablation' },
    metadata: { description: "the modern recipe's ablation: from net5 to conv4 one ingredient per row, 12 epochs each on the full converted YouTube-Faces set (docs/results.md)" },
  });
  targets['specialists-equal-time'] = experiment({
    dependsOn: ['youtube-faces-data'],
    options: { script: 'packages/experiments/src/specialists-equal-time.ts', data: 'runs/data/youtube-faces/training.csv.gz', minutes: 30, out: 'runs/specialists-equal-time' },
    metadata: {
      description:
        'do specialists pay at equal time? recommended for half of --minutes (default 30) + the six specialists pre-trained from it in the other half, vs recommended alone for all of it (pass --alone=<run> to reuse one); docs/results.md',
    },
  });
  return targets;
}

module.exports = { projectTargets, experimentTargets, specialistTarget, EXPERIMENT_EXECUTOR, DEFAULT_DATA, EXPERIMENT_INPUTS };
