#!/usr/bin/env node
/**
 * The modern recipe's ablation, for docs/results.md ("Ablation"): one run per row, each row adding one
 * ingredient to the row before it (from Nouri's net5 to the `conv4` preset, then batch norm), plus variants of the
 * final recipe, all with the same epoch budget on the identity-grouped 20 % split (seed 42):
 *
 *   tsx packages/experiments/src/ablation.ts --data runs/data/youtube-faces/training.csv.gz --epochs 12 \
 *       [--rows a,b,…] [--out runs/ablation] [--threads 2]
 *
 * Results are merged into `<out>/ablation.json` by row (so rows can be run in separate invocations)
 * and the whole table is printed in Markdown (`<out>/ablation.md`).
 */
import { Command, InvalidArgumentError } from 'commander';
import { positiveInt } from './arg-parsers.js';
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@keypoints/core/node';
import { MODEL_PRESETS, trainRun, type NewRunConfig } from '@keypoints/pipeline';

/** One row: what it adds, and its settings (over the shared data/split/epoch settings). */
export interface AblationRow {
  readonly name: string;
  readonly change: string;
  readonly config: NewRunConfig;
}

const conv4 = MODEL_PRESETS.conv4;
/** Augmentation off except flips, MSE (what net5 has); undefined fields would fall back to the preset's. */
const NOURI_LOSS_AUGMENT = { loss: 'mse', flip: true, affine: false, photometric: false } as const satisfies Partial<NewRunConfig>;
/** Nouri's net5 training (SGD with Nesterov momentum, linear schedules, MSE, flips, batch 128). */
const NOURI_TRAINING = {
  ...NOURI_LOSS_AUGMENT,
  batchSize: 128,
  optimizer: 'nesterov',
  weightDecay: 0,
  learningRate: 0.01,
  momentum: 0.9,
  learningRateSchedule: { start: 0.03, stop: 0.0001 },
  momentumSchedule: { start: 0.9, stop: 0.999 },
} as const satisfies Partial<NewRunConfig>;
/** conv4's optimizer and schedule. */
const MODERN_OPTIMIZER = {
  ...NOURI_LOSS_AUGMENT,
  batchSize: conv4.batchSize,
  optimizer: conv4.optimizer,
  weightDecay: conv4.weightDecay,
  learningRate: conv4.learningRate,
  learningRateSchedule: conv4.learningRateSchedule,
} as const satisfies Partial<NewRunConfig>;
const CONV4_NO_BN = { model: 'conv4', convNet: { filters: [16, 32, 64, 128], batchNorm: false } } as const satisfies Partial<NewRunConfig>;
// The `augment` row is the conv4 preset spelt out (its settings must stay equal: ablation.test.ts).

/** The rows, in order: a cumulative ladder from net5 to conv4, then variants of conv4. */
export const ABLATION_ROWS: readonly AblationRow[] = [
  { name: 'net5', change: "Nouri's net5 (baseline)", config: { model: 'net5' } },
  { name: 'arch', change: '+ conv4 architecture (4 blocks of 3×3 conv, dense 256), no batch norm; net5 training', config: { ...CONV4_NO_BN, ...NOURI_TRAINING } },
  { name: 'adamw', change: '+ AdamW (wd 1e-4), batch 64, cosine learning rate 2e-3 → 1e-5 with 2 warm-up epochs', config: { ...CONV4_NO_BN, ...MODERN_OPTIMIZER } },
  { name: 'wing', change: '+ Wing loss (w 10 px, ε 2 px) instead of MSE', config: { ...CONV4_NO_BN, ...MODERN_OPTIMIZER, loss: 'wing' } },
  { name: 'augment', change: '+ affine (±3 px, ±10°, ±5 %) and brightness/contrast augmentation = the `conv4` preset', config: { ...CONV4_NO_BN, ...MODERN_OPTIMIZER, loss: 'wing', affine: true, photometric: true } },
  { name: 'bn', change: '+ batch normalization = the `conv4bn` preset', config: { model: 'conv4bn' } },
  { name: 'conv4-mse', change: 'conv4 with MSE instead of Wing loss', config: { model: 'conv4', loss: 'mse' } },
  { name: 'conv4-l1', change: 'conv4 with L1 instead of Wing loss', config: { model: 'conv4', loss: 'l1' } },
  { name: 'conv4x2', change: 'conv4 with two convolutions per block = the `conv4x2` preset', config: { model: 'conv4x2' } },
];

/** What a row's run gave. */
export interface AblationResult {
  readonly row: string;
  readonly change: string;
  readonly epochs: number;
  readonly bestValidRmsePx: number;
  readonly bestEpoch: number;
  readonly finalValidRmsePx: number;
  readonly trainSeconds: number;
  readonly secondsPerEpoch: number;
}

/** The Markdown table of `results` in {@link ABLATION_ROWS} order. */
export function ablationTable(results: readonly AblationResult[]): string {
  const order = (r: AblationResult) => ABLATION_ROWS.findIndex((x) => x.name === r.row);
  const rows = [...results].sort((a, b) => order(a) - order(b));
  return [
    '| row | change | epochs | best valid RMSE (px) | at epoch | last epoch (px) | s / epoch |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.row} | ${r.change} | ${r.epochs} | ${r.bestValidRmsePx.toFixed(3)} | ${r.bestEpoch} | ${r.finalValidRmsePx.toFixed(3)} | ${r.secondsPerEpoch.toFixed(1)} |`,
    ),
  ].join('\n');
}


const program = new Command('ablation')
  .requiredOption('--data <file>', 'Kaggle-format training file with an Identity column (the converted YouTube-Faces set)')
  .option('--epochs <n>', 'epochs per row (one equal budget)', positiveInt, 12)
  .option('--rows <list>', `comma-separated rows (default all: ${ABLATION_ROWS.map((r) => r.name).join(',')})`)
  .option('--out <dir>', 'folder of the runs and ablation.json', 'runs/ablation')
  .option('--threads <n>', 'wasm threads', positiveInt, 2)
  .action(async (o: { data: string; epochs: number; rows?: string; out: string; threads: number }) => {
    const names = o.rows ? o.rows.split(',') : ABLATION_ROWS.map((r) => r.name);
    const unknown = names.filter((n) => !ABLATION_ROWS.some((r) => r.name === n));
    if (unknown.length) throw new InvalidArgumentError(`unknown rows ${unknown.join(', ')}; known: ${ABLATION_ROWS.map((r) => r.name).join(', ')}`);
    const out = resolve(o.out);
    const file = join(out, 'ablation.json');
    let results: AblationResult[] = [];
    try {
      results = (JSON.parse(await readFile(file, 'utf8')) as { results: AblationResult[] }).results;
    } catch {
      results = [];
    }
    for (const name of names) {
      const row = ABLATION_ROWS.find((r) => r.name === name)!;
      const { metrics } = await trainRun({
        ...row.config,
        name: row.name,
        data: o.data,
        epochs: o.epochs,
        groupBy: 'identity',
        threads: o.threads,
        backend: 'wasm',
        out: join(out, row.name),
      });
      const result: AblationResult = {
        row: row.name,
        change: row.change,
        epochs: metrics.epochs,
        bestValidRmsePx: metrics.bestValidRmsePx,
        bestEpoch: metrics.bestEpoch,
        finalValidRmsePx: metrics.finalValidRmsePx,
        trainSeconds: metrics.trainSeconds,
        secondsPerEpoch: metrics.trainSeconds / Math.max(1, metrics.epochs),
      };
      results = [...results.filter((r) => r.row !== row.name), result];
      await writeFileAtomic(file, JSON.stringify({ data: o.data, machine: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`, results }, null, 2) + '\n');
      console.error(`${row.name}: best ${result.bestValidRmsePx.toFixed(3)} px at epoch ${result.bestEpoch}, ${result.secondsPerEpoch.toFixed(1)} s/epoch`);
    }
    const table = ablationTable(results);
    await writeFileAtomic(join(out, 'ablation.md'), table + '\n');
    console.log(table);
  });

// Run as a script (not when a test imports the rows).
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) await program.parseAsync();
