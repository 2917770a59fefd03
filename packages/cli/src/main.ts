#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { isKeypointsError } from '@keypoints/core';
import { DEFAULT_TRAINING_DATA, MODEL_PRESETS } from './config.js';
import { BACKEND_NAMES } from './backends.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

function fraction(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number in (0, 1), got '${v}'`);
  return n;
}

/** Build the `keypoints` command (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('keypoints')
    .description('Train and use facial-keypoint detectors (Kaggle Facial Keypoints format, 96×96 grayscale, 15 keypoints).')
    .showHelpAfterError();

  program
    .command('train')
    .description('train a model and write runs/<name>/ (config, history, learning curve, metrics, model)')
    .addOption(new Option('--model <preset>', 'model preset').choices(MODEL_PRESETS).default('net1'))
    .option('--data <file>', 'Kaggle-format training file (.csv, .csv.gz, .zip)', DEFAULT_TRAINING_DATA)
    .option('--epochs <n>', 'maximum number of epochs', positiveInt, 400)
    .option('--batch-size <n>', 'mini-batch size', positiveInt, 128)
    .option('--learning-rate <lr>', 'initial learning rate (SGD, Nesterov momentum)', Number, 0.01)
    .option('--momentum <m>', 'initial Nesterov momentum', Number, 0.9)
    .option('--validation-fraction <f>', 'fraction held out for validation', fraction, 0.2)
    .addOption(new Option('--group-by <how>', 'keep identities on one side of the split').choices(['auto', 'identity', 'none']).default('auto'))
    .option('--seed <n>', 'seed for split, shuffles and initial weights', Number, 42)
    .addOption(new Option('--backend <name>', 'tfjs backend (default: first that loads of node-gpu, node, wasm, cpu)').choices(BACKEND_NAMES))
    .option('--name <name>', 'run name (default: the model preset)')
    .option('--out <dir>', 'run directory (default: runs/<name>)')
    .action(async (o) => {
      const { trainRun } = await import('./train.js');
      const result = await trainRun({
        model: o.model,
        data: o.data,
        epochs: o.epochs,
        batchSize: o.batchSize,
        learningRate: o.learningRate,
        momentum: o.momentum,
        validationFraction: o.validationFraction,
        groupBy: o.groupBy,
        seed: o.seed,
        backend: o.backend,
        name: o.name,
        out: o.out,
      });
      printSummary(result.runDir, result.metrics);
    });

  program
    .command('evaluate')
    .description("reload a run's model and report RMSE in pixels on its validation split (or on --data)")
    .argument('<run-dir>', 'run directory, e.g. runs/net1')
    .option('--data <file>', 'evaluate on this Kaggle-format file instead of the validation split')
    .option('--keypoints <file>', 'keypoints for --data when it is a test.csv (joined on ImageId), e.g. data/sample/test_keypoints.csv.gz')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKEND_NAMES))
    .option('--json', 'print JSON')
    .action(async (runDir: string, o) => {
      const { evaluateRun } = await import('./evaluate.js');
      const r = await evaluateRun(runDir, { data: o.data, keypoints: o.keypoints, backend: o.backend });
      if (o.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      console.log(`${r.runDir}: RMSE ${r.rmsePx.toFixed(3)} px on ${r.on} (${r.count} faces)`);
      for (const [k, v] of Object.entries(r.perKeypointRmsePx)) console.log(`  ${k.padEnd(26)} ${v.toFixed(3)} px`);
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

  return program;
}

function printSummary(runDir: string, m: { finalValidRmsePx: number; bestValidRmsePx: number; bestEpoch: number; baselineValidRmsePx: number; improvementOverBaseline: number; trainSeconds: number; backend: string }): void {
  console.log(`\nrun: ${runDir}`);
  console.log(`final validation RMSE: ${m.finalValidRmsePx.toFixed(3)} px (best ${m.bestValidRmsePx.toFixed(3)} px at epoch ${m.bestEpoch})`);
  console.log(
    `mean-shape baseline:   ${m.baselineValidRmsePx.toFixed(3)} px  → ${(100 * m.improvementOverBaseline).toFixed(1)} % lower`,
  );
  console.log(`train time: ${m.trainSeconds.toFixed(1)} s on ${m.backend}`);
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (isKeypointsError(err)) {
      console.error(`keypoints: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (invokedDirectly) await main();
