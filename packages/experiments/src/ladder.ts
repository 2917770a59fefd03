#!/usr/bin/env node
/**
 * The CNN ladder with one equal epoch budget per net, for docs/results.md:
 *
 *   tsx packages/experiments/src/ladder.ts --data runs/data/youtube-faces/training.csv.gz --epochs 8 \
 *       [--nets net1,net2,net3,net4,net5,net6] [--out runs/ladder] [--backend wasm]
 *
 * Each net trains with its preset (flips, schedules, dropout as in Nouri 2014) for the same number
 * of epochs on an identity-grouped 20 % validation split; then `summary.md`, the learning curves
 * of all nets on one chart and a results table in Markdown are written to the output folder.
 */
import { Command } from 'commander';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '@keypoints/core/node';
import { MODEL_PRESETS, trainRun, type ModelPreset } from '@keypoints/pipeline';
import { plotRuns, writeSummary } from '@keypoints/inference';
import { cpus } from 'node:os';

const program = new Command('ladder')
  .requiredOption('--data <file>', 'Kaggle-format training file with an Identity column')
  .requiredOption('--epochs <n>', 'epochs per net (one equal budget)', (v) => Number.parseInt(v, 10))
  .option('--nets <list>', 'comma-separated presets', 'net1,net2,net3,net4,net5,net6')
  .option('--out <dir>', 'folder of the runs', 'runs/ladder')
  .option('--backend <name>', 'tfjs backend')
  .action(async (o: { data: string; epochs: number; nets: string; out: string; backend?: string }) => {
    const nets = o.nets.split(',') as ModelPreset[];
    const out = resolve(o.out);
    const rows: string[] = [];
    for (const net of nets) {
      const { metrics, runDir } = await trainRun({
        model: net,
        name: net,
        data: o.data,
        epochs: o.epochs,
        groupBy: 'identity',
        out: join(out, net),
        ...(o.backend ? { backend: o.backend } : {}),
      });
      rows.push(
        `| ${net} | ${MODEL_PRESETS[net].summary} | ${metrics.epochs} | ${metrics.bestValidRmsePx.toFixed(3)} | ${metrics.bestEpoch} | ${metrics.finalValidRmsePx.toFixed(3)} | ${(metrics.trainSeconds / 60).toFixed(1)} | ${metrics.backend} |`,
      );
      console.error(`${net}: best ${metrics.bestValidRmsePx.toFixed(3)} px → ${runDir}`);
    }
    await writeSummary(out);
    await plotRuns(nets.map((n) => join(out, n)), { outDir: out, faces: 16 });
    const table = [
      `Data: ${o.data}; ${o.epochs} epochs per net; identity-grouped 20 % validation; machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}.`,
      '',
      '| net | what | epochs | best valid RMSE (px) | at epoch | final valid RMSE (px) | train time (min) | backend |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
      ...rows,
    ].join('\n');
    await writeFileAtomic(join(out, 'results-table.md'), table + '\n');
    console.log(table);
  });

await program.parseAsync();
