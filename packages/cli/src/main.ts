#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BackendRegistry, container } from '@keypoints/core';
import { DEFAULT_TRAINING_DATA, KEYPOINT_SET_NAMES, MODEL_PRESET_NAMES, RECOMMENDED_PRESET, registerDefaultBackends, runSummaryLines, type TrainResult } from '@keypoints/pipeline';
import { addTrainSpecialistsCommand } from './commands/train-specialists.command.js';
import { addSubmitCommand } from './commands/submit.command.js';
import { addPredictCommand } from './commands/predict.command.js';
import type { TrainResult as RunResult, TrainRunOptions } from '@keypoints/pipeline';
import { EXIT, reportFailure } from './exit.js';
import { positiveInt, positiveMinutes } from './arg-parsers.js';
import { onInterrupt, resumeCommand, type Interrupt } from './interrupt.js';

/** This package's version (`package.json` sits one folder above both `src/` and `dist/`). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function range(v: string): { start: number; stop: number } {
  const [start, stop] = v.split(':').map(Number);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new InvalidArgumentError(`expected start:stop, e.g. 0.03:0.0001, got '${v}'`);
  return { start, stop };
}

/** `start:stop` (linear) or `cosine:peak:stop[:warmup]` (cosine with a linear warm-up of `warmup` epochs). */
function lrSchedule(v: string): { start: number; stop: number } | { shape: 'cosine'; start: number; stop: number; warmup: number } {
  if (!v.startsWith('cosine:')) return range(v);
  const [start, stop, warmup = 0] = v.slice('cosine:'.length).split(':').map(Number);
  if (!(start! > 0) || !(stop! > 0) || !Number.isInteger(warmup) || warmup < 0) {
    throw new InvalidArgumentError(`expected cosine:peak:stop[:warmup-epochs], e.g. cosine:0.002:0.00001:2, got '${v}'`);
  }
  return { shape: 'cosine', start: start!, stop: stop!, warmup };
}

function pair(v: string): [number, number] {
  const p = v.split(',').map(Number);
  if (p.length !== 2 || !p.every((n) => Number.isInteger(n) && n > 0)) throw new InvalidArgumentError(`expected two positive integers a,b, got '${v}'`);
  return [p[0], p[1]];
}

function fraction(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number in (0, 1), got '${v}'`);
  return n;
}

/**
 * `train`'s Ctrl-C handling: the first SIGINT / SIGTERM stops the run at the end of the epoch in
 * progress (`TrainRunOptions.interrupt`), which then writes its files with status `interrupted`;
 * before the first epoch it exits at once (nothing to save); a second signal exits at once.
 * `finish` removes the handlers.
 */
function interruptibleRun(plugins: string[]): { runOptions: TrainRunOptions; finish: () => void } {
  let epoch: number | undefined;
  const interrupt = onInterrupt((sig) => {
    if (epoch === undefined) {
      console.error(`\nkeypoints: ${sig} before the first epoch; nothing to save`);
      return false;
    }
    console.error(`\nkeypoints: ${sig}: finishing epoch ${epoch + 1}, then writing the run (again to quit at once; the run then resumes from its last checkpoint)`);
    return true;
  });
  interrupted = interrupt;
  return {
    runOptions: {
      plugins,
      interrupt: interrupt.signal,
      onEvent: (e) => {
        if (e.type === 'epochStart') epoch = e.epoch;
      },
    },
    finish: () => interrupt.dispose(),
  };
}

/** The interrupt handler of the running `train` command, if any. */
let interrupted: Interrupt | undefined;

/** After an interrupted run: the exact command that continues it; exit status 130 (SIGTERM: 143). */
function printResumeHint(result: RunResult, plugins: readonly string[]): void {
  if (result.metrics.status !== 'interrupted') return;
  console.error(`keypoints: interrupted after epoch ${result.end.epochsCompleted}; resume with: ${resumeCommand(result.runDir, plugins)}`);
  process.exitCode = interrupted?.exitCode ?? EXIT.SIGINT;
}

/** Build the `keypoints` command (exported for tests). */
export function buildProgram(): Command {
  // --backend choices: the backend plugins registered in the CLI's container, by priority.
  const backends = registerDefaultBackends(container.createChildContainer()).resolve(BackendRegistry).names();
  const program = new Command('keypoints')
    .description('Train and use facial-keypoint detectors (Kaggle Facial Keypoints format, 96×96 grayscale, 15 keypoints).')
    .version(VERSION, '-V, --version', 'print the version of @keypoints/cli')
    // Usage errors throw (CommanderError) instead of exiting 1: main() exits 2 (see EXIT).
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  program
    .command('train')
    .description('train a model and write runs/<name>/ (config, history, learning curve, metrics, checkpoints, model)')
    .addOption(
      new Option('--model <preset>', `model preset: Nouri 2014's net1 … net8, the modern conv4 / conv4bn / conv4x2, or recommended (= ${RECOMMENDED_PRESET})`)
        .choices([...MODEL_PRESET_NAMES, 'recommended'])
        .default('net1'),
    )
    .option('--data <file>', 'Kaggle-format training file (.csv, .csv.gz, .zip)', DEFAULT_TRAINING_DATA)
    .option('--limit <n>', 'read only the first n rows of the data file (quick runs)', positiveInt)
    .option('--epochs <n>', "maximum number of epochs (default: the preset's)", positiveInt)
    .option('--max-time <minutes>', "wall-time budget: stop at the epoch end where it runs out and keep the best epoch's weights (PyTorch Lightning max_time); --epochs stays the upper limit", positiveMinutes)
    .option('--batch-size <n>', "mini-batch size (default: the preset's; 128 for net1 … net8)", positiveInt)
    .addOption(new Option('--optimizer <name>', "nesterov (SGD, Nesterov momentum), adam, or adamw (default: the preset's)").choices(['nesterov', 'adam', 'adamw']))
    .option('--weight-decay <wd>', "AdamW's decoupled weight decay (default 1e-4 with adamw)", Number)
    .addOption(new Option('--loss <name>', "training loss: mse, l1 or wing (Feng et al. 2018) (default: the preset's)").choices(['mse', 'l1', 'wing']))
    .option('--learning-rate <lr>', "initial learning rate (default: the preset's; 0.01 for net1 … net8)", Number)
    .option('--momentum <m>', 'initial Nesterov momentum (default 0.9)', Number)
    .option('--lr-schedule <start:stop>', 'learning-rate schedule over the epochs: linear start:stop (e.g. 0.03:0.0001) or cosine:peak:stop[:warmup-epochs] (e.g. cosine:0.002:0.00001:2)', lrSchedule)
    .option('--momentum-schedule <start:stop>', 'linear momentum schedule, e.g. 0.9:0.999', range)
    .option('--flip', 'flip half of each training batch (mirrors keypoints, swaps left/right)')
    .option('--no-flip', 'no flip augmentation, even if the preset has it')
    .option('--affine', 'random small shifts / rotations / scalings of training faces')
    .option('--no-affine', 'no affine augmentation, even if the preset has it')
    .option('--photometric', 'random brightness / contrast changes of training faces')
    .option('--no-photometric', 'no brightness / contrast augmentation, even if the preset has it')
    .option('--dropout', 'dropout 0.1/0.2/0.3 after the pools, 0.5 after hidden4')
    .option('--no-dropout', 'no dropout, even if the preset has it')
    .option('--dense <a,b>', 'CNN dense layer sizes, e.g. 1000,1000', pair)
    .option('--patience <n>', 'early stopping: epochs without validation improvement (specialists: 200)', positiveInt)
    .addOption(new Option('--keypoints <set>', 'keypoints to predict: full, or a specialist group (Nouri 2014)').choices(KEYPOINT_SET_NAMES).default('full'))
    .option('--pretrained <run-dir>', 'initialise every layer but the output from this run (supervised pre-training)')
    .addOption(new Option('--missing <how>', 'rows missing some of the keypoints: drop them, or mask them out of the loss').choices(['drop', 'mask']).default('drop'))
    .option('--missing-like <kaggle.csv>', "give the training rows the missing-keypoint pattern of this Kaggle table (e.g. the real training_keypoints_only.csv)")
    .option('--threads <n>', 'wasm backend threads (default: every core)', positiveInt)
    .option('--validation-fraction <f>', 'fraction held out for validation', fraction, 0.2)
    .addOption(new Option('--group-by <how>', 'keep identities on one side of the split').choices(['auto', 'identity', 'none']).default('auto'))
    .option('--seed <n>', 'seed for split, shuffles, augmentation and initial weights', Number, 42)
    .addOption(new Option('--backend <name>', `tfjs backend (default: first that loads of ${backends.join(', ')})`).choices(backends))
    .option('--name <name>', 'run name (default: the model preset)')
    .option('--out <dir>', 'run directory (default: runs/<name>)')
    .option('--resume <run-dir>', 'continue a run from its last checkpoint (same config; --epochs, --backend and --max-time may change)')
    .option(
      '--callback <module>',
      'add the callbacks of a plugin module (path relative to the working directory, or a package name) whose default export is a factory (options: { runDir, config, logger }) returning a callback or an array of them; repeatable',
      (v: string, previous: string[] = []) => [...previous, v],
    )
    .action(async (o, cmd: Command) => {
      const { resumeRun, trainRun } = await import('@keypoints/pipeline');
      const plugins = (o.callback as string[] | undefined) ?? [];
      const { runOptions, finish } = interruptibleRun(plugins);
      if (o.resume) {
        const result = await resumeRun(o.resume, { epochs: o.epochs, backend: o.backend, maxTime: o.maxTime }, runOptions).finally(finish);
        printSummary(result.runDir, result.metrics);
        printResumeHint(result, plugins);
        return;
      }
      // Only flags the user gave override the preset (commander fills negatable flags with true).
      const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
      const result = await trainRun(
        {
          // With --pretrained and no --model, the architecture comes from the pre-trained run.
          model: given('model') || !o.pretrained ? o.model : undefined,
          data: o.data,
          maxRows: o.limit,
          epochs: o.epochs,
          maxTime: o.maxTime,
          batchSize: o.batchSize,
          optimizer: o.optimizer,
          weightDecay: o.weightDecay,
          loss: o.loss,
          learningRate: o.learningRate,
          momentum: o.momentum,
          learningRateSchedule: o.lrSchedule,
          momentumSchedule: o.momentumSchedule,
          flip: given('flip') ? o.flip : undefined,
          affine: given('affine') ? o.affine : undefined,
          photometric: given('photometric') ? o.photometric : undefined,
          dropout: given('dropout') ? o.dropout : undefined,
          dense: o.dense,
          patience: o.patience,
          keypoints: o.keypoints,
          pretrained: o.pretrained,
          missing: o.missing,
          missingLike: o.missingLike,
          threads: o.threads,
          validationFraction: o.validationFraction,
          groupBy: o.groupBy,
          seed: o.seed,
          backend: o.backend,
          name: o.name,
          out: o.out,
        },
        runOptions,
      ).finally(finish);
      printSummary(result.runDir, result.metrics);
      printResumeHint(result, plugins);
    });

  program
    .command('evaluate')
    .description("reload a run's model and report RMSE in pixels on its validation split (or on --data)")
    .argument('<run-dir>', 'run directory (e.g. runs/net1) or specialists folder (specialists.json)')
    .option('--data <file>', 'evaluate on this Kaggle-format file instead of the validation split')
    .option('--keypoints <file>', 'keypoints for --data when it is a test.csv (joined on ImageId), e.g. packages/sample-data/data/test_keypoints.csv.gz')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(backends))
    .option('--flip-tta', 'test-time flip averaging: also predict the mirrored faces and average (twice the inference cost)')
    .option('--json', 'print JSON')
    .action(async (runDir: string, o) => {
      const { evaluateRun } = await import('@keypoints/inference');
      const r = await evaluateRun(runDir, { data: o.data, keypoints: o.keypoints, backend: o.backend, flipTta: o.flipTta === true });
      if (o.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      console.log(`${r.runDir}: RMSE ${r.rmsePx.toFixed(3)} px on ${r.on} (${r.count} faces)`);
      for (const [k, v] of Object.entries(r.perKeypointRmsePx)) console.log(`  ${k.padEnd(26)} ${v.toFixed(3)} px`);
    });

  program
    .command('plot')
    .description('learning curves of several runs on one chart (SVG + PNG) and a grid of 16 validation faces per run')
    .argument('<run-dirs...>', 'run directories (e.g. runs/net1 runs/net2) or specialists folders (their curves, Nouri 2014)')
    .option('--out <dir>', 'where learning-curves.svg/png go (default: the runs’ parent folder)')
    .option('--faces <n>', 'validation faces per grid (0: none)', (v) => Number.parseInt(v, 10), 16)
    .addOption(new Option('--backend <name>', 'tfjs backend for the predictions').choices(backends))
    .action(async (runDirs: string[], o) => {
      const { plotRuns } = await import('@keypoints/inference');
      const { files } = await plotRuns(runDirs, { outDir: o.out, faces: o.faces, backend: o.backend });
      for (const f of files) console.log(f);
    });

  program
    .command('summary')
    .description('write <runs-dir>/summary.md: a results table of every run with a metrics.json')
    .argument('[runs-dir]', 'folder of run directories', 'runs')
    .action(async (runsDir: string) => {
      const { writeSummary } = await import('@keypoints/inference');
      const { file, runs } = await writeSummary(runsDir);
      console.log(`${file}: ${runs} runs`);
    });

  program
    .command('convert')
    .description('convert a 68-landmark folder (iBUG layout, e.g. YouTube-Faces/Udacity P1) to the Kaggle format')
    .requiredOption('--csv <file>', 'landmark CSV: name,x0,y0,…,x67,y67')
    .requiredOption('--images <dir>', 'folder with one image per CSV row')
    .requiredOption('--out <file>', 'output Kaggle-format file (.csv or .csv.gz)')
    .option('--limit <n>', 'convert only the first n rows', positiveInt)
    .action(async (o) => {
      const { runConvert } = await import('./convert.js');
      await runConvert(o);
    });

  addSubmitCommand(program, backends);
  addPredictCommand(program, backends);
  addTrainSpecialistsCommand(program, backends);
  return program;
}

/** The end-of-run summary: the saved model's validation RMSE first (see `runSummaryLines`), then train time. */
function printSummary(runDir: string, m: TrainResult['metrics']): void {
  console.log(`\nrun: ${runDir}`);
  for (const line of runSummaryLines(m)) console.log(line);
  console.log(`train time: ${m.trainSeconds.toFixed(1)} s on ${m.backend}`);
}

/**
 * Run `keypoints` with `argv` and set `process.exitCode` (see {@link EXIT}): 0 on success, 2 on a
 * usage error (commander prints it), 1 on any other error, printed as one line
 * `keypoints: <message>` (a non-keypoints error adds `(run with KEYPOINTS_DEBUG=1 for the stack)`;
 * with `KEYPOINTS_DEBUG=1` the stack follows). `train` interrupted by Ctrl-C sets 130 (SIGTERM: 143).
 */
export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportFailure(err);
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (invokedDirectly) {
  // Errors that escape the command's promise (a stream's late 'error' event): one line too, exit 1.
  const fatal = (err: unknown) => {
    reportFailure(err);
    process.exit(EXIT.error);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  await main();
}
