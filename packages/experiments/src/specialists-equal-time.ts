#!/usr/bin/env node
/**
 * Do Nouri's specialists pay when the base net has converged? (docs/results.md, "Specialists at equal
 * time"). Three arms on the identity-grouped 20 % split (seed 42), all scored on the same validation faces:
 *
 * - **base**: the `recommended` preset for `share × minutes` (`--max-time`);
 * - **base + specialists**: the six specialists (Nouri 2014) pre-trained from *base*, in parallel worker
 *   processes (`workers` × 1 thread), sharing the remaining `(1 − share) × minutes` of wall time: they run in
 *   `ceil(6 / workers)` waves, so each gets `(1 − share) × minutes / ceil(6 / workers)` minutes
 *   (`trainSpecialists({ maxTime })`; worker start-up comes on top, ~10 s per wave);
 * - **alone**: the `recommended` preset for the whole `minutes` (trained here, or an existing run given by
 *   `--alone`, e.g. the time-to-accuracy benchmark's `runs/bench/tta/conv4`).
 *
 *   tsx packages/experiments/src/specialists-equal-time.ts --data runs/data/youtube-faces/training.csv.gz \
 *       --minutes 30 [--share 0.5] [--alone runs/bench/tta/conv4] [--out runs/specialists-equal-time] [--threads 2]
 *
 * Writes `<out>/specialists-equal-time.json` and the Markdown table `<out>/specialists-equal-time.md`.
 */
import { realpathSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { positiveInt, positiveNumber } from './arg-parsers.js';
import { silentLogger } from '@keypoints/core';
import { writeFileAtomic } from '@keypoints/core/node';
import { evaluateRun } from '@keypoints/inference';
import { SPECIALIST_NAMES, trainRun, trainSpecialists } from '@keypoints/pipeline';

/** How a total time budget is split between the base net and the specialists. Minutes. */
export interface EqualTimeBudget {
  /** The base net's `--max-time`. */
  readonly baseMinutes: number;
  /** Wall time left for all six specialists together. */
  readonly specialistsMinutes: number;
  /** Each specialist's `--max-time`: `specialistsMinutes / ceil(6 / workers)` (the six run `workers` at a time). */
  readonly perSpecialistMinutes: number;
}

/**
 * Split `minutes` of wall time: `share` of it for the base net, the rest for the six specialists run
 * `workers` at a time (each specialist then gets `rest / ceil(specialists / workers)`).
 * @throws {RangeError} when `minutes` ≤ 0, `share` is outside (0, 1) or `workers` is not a positive integer.
 */
export function splitEqualTime(minutes: number, share: number, workers: number, specialists = SPECIALIST_NAMES.length): EqualTimeBudget {
  if (!(minutes > 0 && Number.isFinite(minutes))) throw new RangeError(`minutes must be > 0, got ${minutes}`);
  if (!(share > 0 && share < 1)) throw new RangeError(`share must be in (0, 1), got ${share}`);
  if (!(Number.isInteger(workers) && workers > 0)) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  const baseMinutes = minutes * share;
  const specialistsMinutes = minutes - baseMinutes;
  const waves = Math.ceil(specialists / workers);
  return { baseMinutes, specialistsMinutes, perSpecialistMinutes: specialistsMinutes / waves };
}

/** One arm's outcome. `wallMinutes`: training wall time (for the specialists arm: base + the specialists' wall). */
export interface EqualTimeArm {
  readonly arm: 'base' | 'base + specialists' | 'alone';
  readonly runDir: string;
  readonly wallMinutes: number;
  /** Validation RMSE of the saved model (or the specialists' ensemble), pixels. */
  readonly validRmsePx: number;
  /** Per-keypoint validation RMSE, pixels. */
  readonly perKeypointRmsePx: Readonly<Record<string, number>>;
}

/** The Markdown table of the arms, with each arm's RMSE relative to `alone`. */
export function equalTimeTable(arms: readonly EqualTimeArm[]): string {
  const alone = arms.find((a) => a.arm === 'alone');
  return [
    '| arm | wall time (min) | validation RMSE (px) | vs alone |',
    '| --- | ---: | ---: | ---: |',
    ...arms.map(
      (a) =>
        `| ${a.arm} | ${a.wallMinutes.toFixed(1)} | ${a.validRmsePx.toFixed(3)} | ${alone ? `${(((a.validRmsePx - alone.validRmsePx) / alone.validRmsePx) * 100).toFixed(1)} %` : '–'} |`,
    ),
  ].join('\n');
}

/** Options of {@link runSpecialistsEqualTime}. */
export interface SpecialistsEqualTimeOptions {
  readonly data: string;
  readonly minutes: number;
  /** Share of `minutes` for the base net; default 0.5. */
  readonly share?: number;
  /** Existing `recommended` run trained for `minutes` (the alone arm); default: train it here. */
  readonly alone?: string;
  readonly out: string;
  /** Threads of the base and alone runs, and worker processes of the specialists (1 thread each); default 2. */
  readonly threads?: number;
  /** Read only the first rows of the data file (quick checks). */
  readonly limit?: number;
}

/** Train and score the three arms (see the file header); writes `<out>/specialists-equal-time.{json,md}`. */
export async function runSpecialistsEqualTime(o: SpecialistsEqualTimeOptions): Promise<EqualTimeArm[]> {
  const threads = o.threads ?? 2;
  const out = resolve(o.out);
  const budget = splitEqualTime(o.minutes, o.share ?? 0.5, threads);
  const common = { model: 'recommended', data: o.data, groupBy: 'identity', backend: 'wasm', threads, ...(o.limit ? { maxRows: o.limit } : {}) } as const;
  const log = (line: string) => console.error(line);
  log(`specialists at equal time: ${o.minutes} min = base ${budget.baseMinutes.toFixed(2)} min + 6 specialists × ${budget.perSpecialistMinutes.toFixed(2)} min (${threads} at a time) vs recommended alone for ${o.minutes} min`);

  const baseDir = join(out, 'base');
  const base = await trainRun({ ...common, name: 'base', maxTime: budget.baseMinutes, out: baseDir });
  log(`base: best ${base.metrics.bestValidRmsePx.toFixed(3)} px in ${(base.metrics.trainSeconds / 60).toFixed(1)} min`);

  const specialistsDir = join(out, 'specialists');
  const { manifest, failed } = await trainSpecialists({
    pretrained: baseDir,
    out: specialistsDir,
    workers: threads,
    threadsPerWorker: 1,
    maxTime: budget.perSpecialistMinutes,
    backend: 'wasm',
    progress: false,
    onMessage: (m) => {
      if (m.type === 'end') log(`specialist ${m.name}: best ${m.bestValidRmsePx.toFixed(3)} px, ${m.epochs} epochs, ${m.trainSeconds.toFixed(0)} s (${m.stopReason ?? m.status})`);
    },
  });
  if (failed.length > 0) throw new Error(`specialists did not complete: ${failed.join(', ')} (logs in ${specialistsDir}/<group>/worker.log)`);

  const aloneDir = o.alone ? resolve(o.alone) : join(out, 'alone');
  if (!o.alone) await trainRun({ ...common, name: 'alone', maxTime: o.minutes, out: aloneDir });
  const aloneMetrics = JSON.parse(await readFile(join(aloneDir, 'metrics.json'), 'utf8')) as { trainSeconds: number };

  const score = async (arm: EqualTimeArm['arm'], runDir: string, wallMinutes: number): Promise<EqualTimeArm> => {
    const e = await evaluateRun(runDir, { backend: 'wasm', logger: silentLogger });
    return { arm, runDir, wallMinutes, validRmsePx: e.rmsePx, perKeypointRmsePx: e.perKeypointRmsePx };
  };
  const arms = [
    await score('base', baseDir, base.metrics.trainSeconds / 60),
    await score('base + specialists', specialistsDir, (base.metrics.trainSeconds + manifest.wallSeconds) / 60),
    await score('alone', aloneDir, aloneMetrics.trainSeconds / 60),
  ];
  const machine = `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`;
  await writeFileAtomic(join(out, 'specialists-equal-time.json'), JSON.stringify({ data: o.data, minutes: o.minutes, budget, machine, arms }, null, 2) + '\n');
  const table = equalTimeTable(arms);
  await writeFileAtomic(join(out, 'specialists-equal-time.md'), table + '\n');
  return arms;
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  await new Command('specialists-equal-time')
    .requiredOption('--data <file>', 'Kaggle-format training file with an Identity column (the converted YouTube-Faces set)')
    .option('--minutes <n>', 'total wall-time budget of each side, minutes', positiveNumber, 30)
    .option('--share <f>', "the base net's share of the budget in the specialists arm, in (0, 1)", positiveNumber, 0.5)
    .option('--alone <run-dir>', 'an existing recommended run trained for --minutes (default: train it here)')
    .option('--out <dir>', 'output folder', 'runs/specialists-equal-time')
    .option('--threads <n>', 'wasm threads of the base runs = specialist worker processes', positiveInt, 2)
    .option('--limit <n>', 'read only the first n rows (quick checks)', positiveInt)
    .action(async (opts: SpecialistsEqualTimeOptions) => {
      console.log(equalTimeTable(await runSpecialistsEqualTime(opts)));
    })
    .parseAsync();
}
