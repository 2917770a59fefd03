#!/usr/bin/env node
/**
 * Run one experiment: `tsx packages/experiments/src/run.ts net1 [--epochs N] [--max-time MINUTES] [--backend NAME] [--data FILE] [--out DIR]`.
 * This is what the nx targets `experiments:<name>` call (`npx nx run experiments:net1 --max-time=0.5`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { isKeypointsError } from '@keypoints/core';
import { trainRun, versusBaseline } from '@keypoints/pipeline';
import { experiment } from './experiments.js';

const program = new Command('experiment')
  .argument('<name>', 'experiment name (net1, …)')
  .option('--epochs <n>', 'override the number of epochs', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a positive integer, got '${v}'`);
    return n;
  })
  .option('--max-time <minutes>', "wall-time budget: stop at the epoch end where it runs out, keep the best epoch's weights (epochs: the preset's unless --epochs)", (v) => {
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of minutes > 0, e.g. 30 or 0.5, got '${v}'`);
    return n;
  })
  .option('--backend <name>', 'tfjs backend')
  .option('--data <file>', 'Kaggle-format training file (default: the embedded sample)')
  .option('--out <dir>', 'run directory (default: runs/<name>)')
  .action(async (name: string, o: { epochs?: number; maxTime?: number; backend?: string; data?: string; out?: string }) => {
    const e = experiment(name);
    const epochs = o.epochs ? `; this run: ${o.epochs} epoch${o.epochs === 1 ? '' : 's'} (--epochs)` : '';
    const budget = o.maxTime ? `; at most ${o.maxTime} min (--max-time)` : '';
    console.error(`experiment ${e.name}: ${e.description} (${e.source})${epochs}${budget}`);
    const { runDir, metrics } = await trainRun({
      ...e.config,
      ...(o.epochs ? { epochs: o.epochs } : {}),
      ...(o.maxTime ? { maxTime: o.maxTime } : {}),
      ...(o.backend ? { backend: o.backend } : {}),
      ...(o.data ? { data: o.data } : {}),
      ...(o.out ? { out: o.out } : {}),
    });
    // The saved model's figure first (early stopping: the restored best epoch's), then the last epoch's.
    const saved = metrics.savedModel;
    console.log(`\n${e.name}: saved model's validation RMSE ${(metrics.validRmsePx ?? metrics.finalValidRmsePx).toFixed(3)} px ` +
      `(${saved?.weights === 'best' ? `best weights, epoch ${saved.epoch}` : `epoch ${saved?.epoch ?? metrics.epochs}`}); ` +
      `last epoch ${metrics.finalValidRmsePx.toFixed(3)} px (best ${metrics.bestValidRmsePx.toFixed(3)} px at epoch ${metrics.bestEpoch}); ` +
      `mean-shape baseline ${metrics.baselineValidRmsePx.toFixed(3)} px (${versusBaseline(metrics.improvementOverBaseline)}); ` +
      `${metrics.trainSeconds.toFixed(0)} s on ${metrics.backend}` +
      (metrics.stoppedBy === 'max-time' ? `; stopped by --max-time: ${metrics.stopReason}` : '') +
      `; written to ${runDir}`);
  });

try {
  await program.parseAsync();
} catch (err) {
  if (isKeypointsError(err) || (err instanceof Error && err.message.startsWith('unknown experiment'))) {
    console.error(`experiment: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
