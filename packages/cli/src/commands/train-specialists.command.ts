import { Option, type Command } from 'commander';
import { positiveInt, positiveMinutes } from '../arg-parsers.js';
import { EXIT } from '../exit.js';

function list(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * Add `keypoints train-specialists` to `program` (Nouri 2014, specialists): train the six keypoint
 * groups in parallel worker processes, pre-trained from `--pretrained <run-dir>`, show their
 * progress together, write `<out>/specialists.json` and print a summary table with the wall time
 * next to the sequential time. Exit code 1 when any specialist failed or was cancelled.
 *
 * @param backends the names `--backend` accepts: the CLI's registered backend plugins
 *   (`BackendRegistry.names()`), highest priority first, e.g. `['node-gpu', 'node', 'wasm', 'cpu']`.
 * @returns `program`, for chaining.
 */
export function addTrainSpecialistsCommand(program: Command, backends: readonly string[]): Command {
  return program
    .command('train-specialists')
    .description('train the six specialists (Nouri 2014) in parallel worker processes, pre-trained from a run, and write <out>/specialists.json')
    .requiredOption('--pretrained <run-dir>', 'pretrained full-set run (its model preset and settings are reused), e.g. runs/net6')
    .option('--out <dir>', 'output folder; each specialist in <out>/<group>/', 'runs/specialists')
    .option('--workers <n>', 'parallel worker processes (default: min(6, cores, specialists))', positiveInt)
    .option('--threads <n>', 'wasm threads per worker (default: max(1, floor(cores / workers)))', positiveInt)
    .option('--force', 'allow workers × threads > cores')
    .option('--epochs <n>', 'maximum epochs (default: round(4e6 / rows), kfkd.py)', positiveInt)
    .option('--patience <n>', 'early stopping: epochs without validation improvement (default: 200, kfkd.py)', positiveInt)
    .option('--max-time <minutes>', "wall-time budget of each specialist: it stops at the epoch end where the budget runs out and keeps its best epoch (default: none)", positiveMinutes)
    .option('--only <groups>', 'comma-separated subset: eye_center,nose_tip,mouth_corners_top_lip,mouth_bottom_lip,eye_corners,eyebrows', list)
    .option('--limit <n>', "read only the first n rows of the data file (default: the pretrained run's)", positiveInt)
    .option('--batch-size <n>', "mini-batch size (default: the pretrained run's)", positiveInt)
    .addOption(new Option('--backend <name>', `tfjs backend of every worker (default: first that loads of ${backends.join(', ')})`).choices(backends))
    .option('--no-manifest', 'do not write <out>/specialists.json (one nx target per specialist)')
    .option('--manifest-only', 'train nothing: write <out>/specialists.json from the run directories already in <out>')
    .action(async (o) => {
      const { trainSpecialists, assembleSpecialistsManifest, formatSpecialistsSummary } = await import('@keypoints/pipeline');
      if (o.manifestOnly) {
        const { manifest, manifestPath, failed } = await assembleSpecialistsManifest({ pretrained: o.pretrained, out: o.out, only: o.only });
        console.log(formatSpecialistsSummary(manifest, manifestPath));
        if (failed.length > 0) process.exitCode = 1;
        return;
      }
      // Ctrl-C: queued specialists do not start, running ones stop after their epoch and keep
      // their run directories; a second Ctrl-C kills.
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
        maxTime: o.maxTime,
        only: o.only,
        backend: o.backend,
        maxRows: o.limit,
        batchSize: o.batchSize,
        manifest: o.manifest,
        signal: controller.signal,
      });
      console.log('\n' + formatSpecialistsSummary(manifest, o.manifest === false ? undefined : manifestPath));
      if (controller.signal.aborted) {
        // Ctrl-C: exit status 130, like `train` (see EXIT in exit.ts).
        console.error(`keypoints: interrupted${failed.length > 0 ? `; not completed: ${failed.join(', ')}` : ''}`);
        process.exitCode = EXIT.SIGINT;
        return;
      }
      if (failed.length > 0) {
        console.error(`keypoints: ${failed.length} specialist(s) did not complete: ${failed.join(', ')}`);
        process.exitCode = 1;
      }
    });
}
