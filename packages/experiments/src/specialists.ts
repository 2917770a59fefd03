#!/usr/bin/env node
/**
 * Train Nouri's six specialists (or some of them) pre-trained from a full-set run, or assemble their
 * manifest: what the nx targets `experiments:specialists`, `experiments:specialist-<group>` and
 * `experiments:specialists-manifest` call (the same flags as `keypoints train-specialists`, without
 * depending on the CLI app):
 *
 *   tsx --conditions=@keypoints/source packages/experiments/src/specialists.ts --pretrained runs/net6 \
 *       [--out runs/specialists] [--only eye_center,nose_tip] [--no-manifest | --manifest-only] \
 *       [--epochs N] [--patience N] [--limit N] [--batch-size N] [--workers N] [--threads N] [--backend NAME]
 *
 * Exit code 1 when any specialist failed or was cancelled.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { BackendRegistry, container, isKeypointsError } from '@keypoints/core';
import { assembleSpecialistsManifest, formatSpecialistsSummary, registerDefaultBackends, SPECIALIST_NAMES, trainSpecialists } from '@keypoints/pipeline';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
  return n;
}

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

interface SpecialistsOptions {
  pretrained: string;
  out: string;
  workers?: number;
  threads?: number;
  force?: boolean;
  epochs?: number;
  patience?: number;
  only?: string[];
  limit?: number;
  batchSize?: number;
  backend?: string;
  manifest: boolean;
  manifestOnly?: boolean;
}

/** `--backend` choices: the backend plugins registered in this script's container, by priority. */
const backends = registerDefaultBackends(container.createChildContainer()).resolve(BackendRegistry).names();

const program = new Command('specialists')
  .description('train the six specialists (Nouri 2014) in parallel worker processes, pre-trained from a run, and write <out>/specialists.json')
  .requiredOption('--pretrained <run-dir>', 'pretrained full-set run (its model preset and settings are reused), e.g. runs/net6')
  .option('--out <dir>', 'output folder; each specialist in <out>/<group>/', 'runs/specialists')
  .option('--workers <n>', 'parallel worker processes (default: min(6, cores, specialists))', positiveInt)
  .option('--threads <n>', 'wasm threads per worker (default: max(1, floor(cores / workers)))', positiveInt)
  .option('--force', 'allow workers × threads > cores')
  .option('--epochs <n>', 'maximum epochs (default: round(4e6 / rows), kfkd.py)', positiveInt)
  .option('--patience <n>', 'early stopping: epochs without validation improvement (default: 200, kfkd.py)', positiveInt)
  .option('--only <groups>', `comma-separated subset: ${SPECIALIST_NAMES.join(',')}`, list)
  .option('--limit <n>', "read only the first n rows of the data file (default: the pretrained run's)", positiveInt)
  .option('--batch-size <n>', "mini-batch size (default: the pretrained run's)", positiveInt)
  .addOption(new Option('--backend <name>', `tfjs backend of every worker (default: first that loads of ${backends.join(', ')})`).choices(backends))
  .option('--no-manifest', 'do not write <out>/specialists.json (one nx target per specialist)')
  .option('--manifest-only', 'train nothing: write <out>/specialists.json from the run directories already in <out>')
  .action(async (o: SpecialistsOptions) => {
    if (o.manifestOnly) {
      const { manifest, manifestPath, failed } = await assembleSpecialistsManifest({ pretrained: o.pretrained, out: o.out, only: o.only });
      console.log(formatSpecialistsSummary(manifest, manifestPath));
      if (failed.length > 0) process.exitCode = 1;
      return;
    }
    // Ctrl-C: queued specialists do not start, running ones stop after their epoch and keep their
    // run directories; a second Ctrl-C kills.
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    const { manifest, manifestPath, failed } = await trainSpecialists({
      pretrained: o.pretrained,
      out: o.out,
      workers: o.workers,
      threadsPerWorker: o.threads,
      force: o.force,
      epochs: o.epochs,
      patience: o.patience,
      only: o.only,
      backend: o.backend,
      maxRows: o.limit,
      batchSize: o.batchSize,
      manifest: o.manifest,
      signal: controller.signal,
    });
    console.log('\n' + formatSpecialistsSummary(manifest, o.manifest === false ? undefined : manifestPath));
    if (failed.length > 0) {
      console.error(`specialists: ${failed.length} specialist(s) did not complete: ${failed.join(', ')}`);
      process.exitCode = 1;
    }
  });

try {
  await program.parseAsync();
} catch (err) {
  if (isKeypointsError(err)) {
    console.error(`specialists: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
