/**
 * Consumer example (issue 10): a custom callback plugin, an rxjs view of the training-event stream,
 * and two epochs of net1 on the shipped sample — imports only from `@keypoints/*` and `rxjs`.
 *
 *   npx tsx --conditions=@keypoints/source tools/consumer-example/example.ts [runDir]
 *
 * Writes the run directory (default `runs/consumer-example`): history.json, history.csv, model/,
 * metrics.json (RunDirectoryCallback) and epochs.jsonl (@keypoints/callback-jsonl).
 */
import { filter, lastValueFrom, map, share } from 'rxjs';
import { FULL_KEYPOINT_SET, TRAINER, consoleLogger, container } from '@keypoints/core';
import { BatchIterator, holdoutSplit, readKaggleCsv, toDataset } from '@keypoints/data';
import { buildFullyConnected } from '@keypoints/models';
import { SAMPLE_TRAINING_CSV } from '@keypoints/sample-data';
import { initBackend } from '@keypoints/pipeline';
import {
  HistoryCallback,
  RunDirectoryCallback,
  registerTraining,
  type CallbackPluginFactory,
  type CallbackPluginOptions,
  type EpochEndEvent,
  type FitEndEvent,
  type Trainer,
  type TrainingEvent,
} from '@keypoints/training';
import createJsonlCallback from '@keypoints/callback-jsonl';

/** A callback plugin (the same contract as `keypoints train --callback <module>`): logs each new best epoch. */
const bestEpochPlugin: CallbackPluginFactory = (options: CallbackPluginOptions) => {
  let best = Infinity;
  return {
    name: 'best-epoch',
    onEpochEnd: (ctx) => {
      const rmse = ctx.logs?.validRmsePx ?? NaN;
      if (rmse < best) {
        best = rmse;
        options.logger.info(`best-epoch: epoch ${ctx.epoch + 1} is the best so far (${rmse.toFixed(3)} px)`);
      }
    },
  };
};

const runDir = process.argv[2] ?? 'runs/consumer-example';
const logger = consoleLogger;
console.log(`backend: ${await initBackend('cpu', logger)}`);

// 64 faces of the shipped sample, split by identity: images [N, 96, 96, 1] in [0, 1], keypoints [N, 30] normalized.
const table = await readKaggleCsv(SAMPLE_TRAINING_CSV, { maxRows: 64 });
const { train, validation } = holdoutSplit(toDataset(table, FULL_KEYPOINT_SET), { groupBy: 'identity' });

// A child container per run: defaults by name, the plugins' callbacks added (a same-named one would replace a default).
const pluginOptions: CallbackPluginOptions = { runDir, config: { model: 'net1', epochs: 2 }, logger };
const plugins = [await bestEpochPlugin(pluginOptions), await createJsonlCallback(pluginOptions)].flat();
const run = container.createChildContainer();
registerTraining(run, {
  trainer: { learningRate: 0.01, momentum: 0.9 },
  defaults: [new HistoryCallback(), new RunDirectoryCallback({ dir: runDir })],
  callbacks: plugins,
});
const trainer = run.resolve<Trainer>(TRAINER);
console.log(trainer.describeCallbacks());

// fit() is cold: share() so that both observers below watch ONE fit.
const events$ = trainer
  .fit(buildFullyConnected({ seed: 42 }), new BatchIterator(train, { batchSize: 32, seed: 42 }), validation, { epochs: 2, batchEvents: false })
  .pipe(share());

const epochLines$ = events$.pipe(
  filter((e: TrainingEvent): e is EpochEndEvent => e.type === 'epochEnd'),
  map((e) => `epoch ${e.epoch + 1}: train ${e.logs.trainRmsePx.toFixed(3)} px, valid ${e.logs.validRmsePx.toFixed(3)} px`),
);
epochLines$.subscribe((line) => console.log(line));
const end = await lastValueFrom(events$.pipe(filter((e: TrainingEvent): e is FitEndEvent => e.type === 'fitEnd')));
await run.dispose();

console.log(`fit ${end.status} after ${end.epochsCompleted} epochs; run directory: ${runDir}`);
