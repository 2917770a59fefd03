/**
 * `npx nx run bench:time-to-accuracy -- --minutes=N`: the validation RMSE each preset reaches in N minutes of
 * training on the converted YouTube-Faces set (identity-grouped 20 % validation, seed 42, wasm backend, 2 threads),
 * and — where `python3-torch` is installed — what PyTorch reaches with the same recipe on the same split in the
 * same time (`torch-tta.py`).
 *
 * Each keypoints run is `trainRun({ model: preset, maxTime: N, threads, backend: 'wasm', … })` in its own folder
 * `<out folder>/tta/<preset>/` (`runs/bench/tta/<preset>` by default); its curve is the run's history (cumulative
 * epoch `durationMs` → seconds, validation RMSE px). The PyTorch peer gets the run's resolved config and the split
 * `loadRunData` makes of it (as float32 `.npy` files in a temporary folder), and prints one JSON line per epoch; it
 * runs with `torch.ts`'s environment (threads, Debian's OpenMP OpenBLAS, glibc malloc tunables).
 *
 * Results are **merged** into the JSON file (`--out`, default `runs/bench/time-to-accuracy.json`): an entry of the
 * same framework + preset + minutes is replaced, every other one kept, so presets can be run in separate
 * invocations. The table printed and the charts drawn (`time-to-accuracy.svg` / `.png` beside the JSON) cover every
 * entry of the file for these minutes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as vegaLite from 'vega-lite';
import { z } from 'zod';
import { silentLogger, type HistoryRow, type Logger } from '@keypoints/core';
import { readHistory } from '@keypoints/core/node';
import {
  MODEL_PRESETS,
  MODEL_PRESET_NAMES,
  RECOMMENDED_PRESET,
  keypointSetOf,
  loadRunData,
  resolveTrainConfig,
  splitKey,
  trainRun,
  type ModelPreset,
  type TrainConfig,
} from '@keypoints/pipeline';
import { svgToPng, vegaLiteSvg } from '@keypoints/reporting';
import { type MachineInfo, machineInfo } from './machine.js';
import { findTorch, torchEnv, type TorchPython } from './torch.js';

/** The converted YouTube-Faces set (`npx nx run experiments:youtube-faces-data`). */
export const DEFAULT_TTA_DATA = join('runs', 'data', 'youtube-faces', 'training.csv.gz');
/** Where results go by default; the charts go beside it (`.svg`, `.png`). */
export const DEFAULT_TTA_OUT = join('runs', 'bench', 'time-to-accuracy.json');
/** The frameworks compared. */
export const TTA_FRAMEWORKS = ['keypoints', 'pytorch'] as const;
export type TtaFramework = (typeof TTA_FRAMEWORKS)[number];
/** The PyTorch peer. */
const TORCH_SCRIPT = fileURLToPath(new URL('./torch-tta.py', import.meta.url));
/** Prefix of the PyTorch peer's JSON lines. */
const TORCH_PREFIX = 'TTA ';

/** Presets measured by default: Nouri's net4 and net5, and every modern preset (those with `convNet`). */
export function defaultTtaPresets(): ModelPreset[] {
  return ['net4', 'net5', ...MODEL_PRESET_NAMES.filter((p) => MODEL_PRESETS[p].convNet !== undefined)];
}

const MachineInfoSchema = z.object({
  cpuModel: z.string(),
  cores: z.number().int().positive(),
  memoryGiB: z.number(),
  platform: z.string(),
  node: z.string(),
  loadAverage: z.number(),
});

/** One run's result: a preset trained for `minutes` by one framework. */
export const TtaResultSchema = z.object({
  framework: z.enum(TTA_FRAMEWORKS),
  preset: z.string().min(1),
  /** The time budget, minutes. */
  minutes: z.number().positive(),
  /** Lowest validation RMSE of any epoch, pixels. */
  bestValidRmsePx: z.number().positive().finite(),
  /** 1-based epoch of `bestValidRmsePx`. */
  bestEpoch: z.number().int().positive(),
  /** Epochs completed. */
  epochs: z.number().int().positive(),
  /** Wall time of the fit (start to stop; keypoints: `metrics.json` `trainSeconds`, checkpoint writes included). */
  seconds: z.number().nonnegative(),
  /** `[seconds, validRmsePx]` per epoch: seconds = cumulative epoch durations (training + validation). */
  curve: z.array(z.tuple([z.number().nonnegative(), z.number().positive()])).min(1),
  /** Why the fit ended (the time budget, usually). */
  stopReason: z.string().optional(),
  threads: z.number().int().positive(),
  /** Backend / library and BLAS in words. */
  detail: z.string(),
  trainCount: z.number().int().positive(),
  validationCount: z.number().int().positive(),
  /** The data file, relative to the working directory. */
  data: z.string(),
  /** `--limit` (rows read), when given. */
  maxRows: z.number().int().positive().optional(),
  /** 1-minute load average when the run started (other work on the machine skews the figures). */
  loadAverage: z.number(),
  date: z.string(),
});
export type TtaResult = z.infer<typeof TtaResultSchema>;

/** `runs/bench/time-to-accuracy.json`. */
export const TtaFileSchema = z.object({
  kind: z.literal('bench:time-to-accuracy'),
  /** The machine of the latest invocation. */
  machine: MachineInfoSchema,
  /** The budget of the latest invocation, minutes. */
  minutes: z.number().positive(),
  results: z.array(TtaResultSchema),
});
export type TtaFile = z.infer<typeof TtaFileSchema>;

/** A bench error that the command prints as one line (no stack). */
export class TtaError extends Error {
  override readonly name = 'TtaError';
}

/**
 * The curve of a history: `[seconds, validRmsePx]` per epoch, seconds the cumulative `durationMs` up to
 * the end of that epoch. Epochs without a finite validation RMSE add their time but no point.
 */
export function curveFromHistory(rows: ReadonlyArray<Pick<HistoryRow, 'durationMs' | 'validRmsePx'>>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let ms = 0;
  for (const r of rows) {
    ms += r.durationMs;
    if (Number.isFinite(r.validRmsePx) && r.validRmsePx > 0) out.push([round(ms / 1000, 3), round(r.validRmsePx, 5)]);
  }
  return out;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

const presetOrder = (p: string) => {
  const i = MODEL_PRESET_NAMES.indexOf(p as ModelPreset);
  return i < 0 ? MODEL_PRESET_NAMES.length : i;
};

/** Order of a file's results: minutes, then ladder order of the preset, then keypoints before PyTorch. */
function compareResults(a: TtaResult, b: TtaResult): number {
  return (
    a.minutes - b.minutes ||
    presetOrder(a.preset) - presetOrder(b.preset) ||
    a.preset.localeCompare(b.preset) ||
    TTA_FRAMEWORKS.indexOf(a.framework) - TTA_FRAMEWORKS.indexOf(b.framework)
  );
}

/**
 * Merge new results into a results file: every entry of `existing` with the framework, preset and minutes of
 * a new one is replaced by it; the others are kept. `machine` and `minutes` become the latest invocation's.
 */
export function mergeResults(existing: TtaFile | undefined, incoming: readonly TtaResult[], machine: MachineInfo, minutes: number): TtaFile {
  const key = (r: TtaResult) => `${r.framework}\u0000${r.preset}\u0000${r.minutes}`;
  const replaced = new Set(incoming.map(key));
  const kept = (existing?.results ?? []).filter((r) => !replaced.has(key(r)));
  return { kind: 'bench:time-to-accuracy', machine, minutes, results: [...kept, ...incoming].sort(compareResults) };
}

/** Read a results file; undefined when there is none. @throws {TtaError} naming the file when it is not one. */
export async function readTtaFile(file: string): Promise<TtaFile | undefined> {
  if (!existsSync(file)) return undefined;
  let parsed: z.SafeParseReturnType<unknown, TtaFile>;
  try {
    parsed = TtaFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new TtaError(`${file}: not JSON (${(err as Error).message}); move it away or give another --out`);
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TtaError(`${file}: not a time-to-accuracy results file (field '${issue?.path.join('.')}': ${issue?.message}); move it away or give another --out`);
  }
  return parsed.data;
}

/** A path relative to the working directory when inside it, else absolute. */
const shown = (path: string) => {
  const r = relative(process.cwd(), path);
  return r === '' || r.startsWith('..') ? path : r;
};

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

/**
 * The results of `minutes` as a Markdown table: preset, framework, best validation RMSE (px), epochs, seconds,
 * and on the keypoints row, where the same preset has a PyTorch result, keypoints ÷ PyTorch of the RMSE and of
 * the epochs done in the budget.
 */
export function formatTtaTable(file: Pick<TtaFile, 'results'>, minutes: number): string {
  const rows = file.results.filter((r) => r.minutes === minutes).sort(compareResults);
  const lines = [
    `| preset | framework | best valid RMSE (px) | epochs | seconds | RMSE keypoints / PyTorch | epochs keypoints / PyTorch |`,
    `|---|---|---:|---:|---:|---:|---:|`,
  ];
  for (const r of rows) {
    const peer = r.framework === 'keypoints' ? rows.find((p) => p.framework === 'pytorch' && p.preset === r.preset) : undefined;
    lines.push(
      `| ${r.preset} | ${r.framework === 'pytorch' ? 'PyTorch' : 'keypoints'} | ${fmt(r.bestValidRmsePx, 3)} | ${r.epochs} | ${fmt(r.seconds, 1)} | ` +
        `${peer ? fmt(r.bestValidRmsePx / peer.bestValidRmsePx) : '–'} | ${peer ? fmt(r.epochs / peer.epochs) : '–'} |`,
    );
  }
  return lines.join('\n');
}

/** The vega-lite chart of the results of `minutes`: validation RMSE (px, log scale) against wall time (minutes). */
export function ttaChartSpec(file: Pick<TtaFile, 'results' | 'machine'>, minutes: number): vegaLite.TopLevelSpec {
  const values = file.results
    .filter((r) => r.minutes === minutes)
    .sort(compareResults)
    .flatMap((r) =>
      r.curve.map(([seconds, rmse]) => ({
        preset: r.preset,
        framework: r.framework === 'pytorch' ? 'PyTorch' : 'keypoints',
        run: `${r.preset} ${r.framework}`,
        minutes: seconds / 60,
        rmse,
      })),
    );
  const threads = [...new Set(file.results.filter((r) => r.minutes === minutes).map((r) => r.threads))].join('/');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `Time to accuracy: ${minutes} min per run, ${threads} thread(s)`,
      subtitle: `${file.machine.cpuModel}, ${file.machine.cores} cores`,
    },
    width: 640,
    height: 360,
    background: 'white',
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, point: { size: 12 } },
    encoding: {
      x: { field: 'minutes', type: 'quantitative', title: 'wall time (min, training + validation)', scale: { domainMin: 0 } },
      y: { field: 'rmse', type: 'quantitative', title: 'validation RMSE (pixels, 96×96 frame)', scale: { type: 'log' } },
      color: { field: 'preset', type: 'nominal', title: 'preset', sort: [...MODEL_PRESET_NAMES] },
      strokeDash: { field: 'framework', type: 'nominal', title: 'framework', sort: ['keypoints', 'PyTorch'] },
      shape: { field: 'framework', type: 'nominal', title: 'framework', sort: ['keypoints', 'PyTorch'] },
      detail: { field: 'run' },
    },
  };
}

/** Write the chart of `minutes` beside the results file: `<out without .json>.svg` and `.png`. */
export async function writeTtaCharts(file: TtaFile, minutes: number, out: string): Promise<{ svg: string; png: string }> {
  const base = out.replace(/\.json$/i, '');
  const svg = await vegaLiteSvg(ttaChartSpec(file, minutes));
  await writeFile(`${base}.svg`, svg);
  await writeFile(`${base}.png`, await svgToPng(svg, 144));
  return { svg: `${base}.svg`, png: `${base}.png` };
}

/** A float32 array as a NumPy `.npy` file (format 1.0, little-endian, C order). */
export function npyBytes(data: Float32Array, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`npyBytes: shape [${shape.join(', ')}] holds ${count} values, the data ${data.length}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const WARNINGS_ONLY: Logger = { ...silentLogger, warn: (m) => console.error(`warning: ${m}`) };

/** Options of {@link runTimeToAccuracy}. */
export interface TtaOptions {
  /** Time budget per run, minutes. */
  readonly minutes: number;
  /** Presets to train (`recommended` is resolved); default {@link defaultTtaPresets}. */
  readonly presets?: readonly string[];
  readonly frameworks?: readonly TtaFramework[];
  /** Kaggle-format training file; default {@link DEFAULT_TTA_DATA}. */
  readonly data?: string;
  /** Read only the first rows (quick checks). */
  readonly limit?: number;
  /** Threads of the wasm backend and of PyTorch; default 2. */
  readonly threads?: number;
  /** Maximum epochs; default the preset's (the time budget stops a run before it). */
  readonly epochs?: number;
  /** Results file; default {@link DEFAULT_TTA_OUT}. The run folders go to `<its folder>/tta/<preset>`. */
  readonly out?: string;
  /** Progress bars / lines of the keypoints runs on stderr; default true. */
  readonly progress?: boolean;
  /** Messages of the keypoints runs; default: warnings on stderr, the rest (backend, data, …) dropped. */
  readonly logger?: Logger;
  /** The Python with torch; default {@link findTorch} (`null`: as if torch were not installed). */
  readonly torch?: TorchPython | null;
}

/** What {@link runTimeToAccuracy} returns. */
export interface TtaReport {
  /** The merged results file as written. */
  readonly file: TtaFile;
  /** This invocation's results. */
  readonly results: readonly TtaResult[];
  /** Runs that did not happen or failed: what and why. */
  readonly skipped: ReadonlyArray<{ what: string; reason: string }>;
  /** Keypoints runs that failed (the command exits 1 then). */
  readonly failed: ReadonlyArray<{ what: string; reason: string }>;
  readonly written: { readonly json: string; readonly svg: string; readonly png: string };
}

/** Resolve the presets option: known names, `recommended` → its preset, no duplicates. @throws {TtaError} on an unknown name. */
export function resolveTtaPresets(presets: readonly string[] | undefined): ModelPreset[] {
  const out: ModelPreset[] = [];
  for (const p of presets ?? defaultTtaPresets()) {
    const name = p === 'recommended' ? RECOMMENDED_PRESET : p;
    if (!MODEL_PRESET_NAMES.includes(name as ModelPreset)) {
      throw new TtaError(`unknown preset '${p}'; expected some of ${MODEL_PRESET_NAMES.join(', ')}, recommended`);
    }
    if (!out.includes(name as ModelPreset)) out.push(name as ModelPreset);
  }
  return out;
}

/**
 * Run the benchmark: per preset the keypoints run, then the PyTorch peer (when torch is installed); after
 * each run the results file is merged and rewritten (a later failure keeps what was measured), and at the
 * end the charts of these minutes are drawn. Logs the machine, each run's outcome and the table.
 *
 * @throws {TtaError} before anything runs when the data file is missing, a preset is unknown or the results
 *   file is not one.
 */
export async function runTimeToAccuracy(options: TtaOptions, log: (line: string) => void = console.log): Promise<TtaReport> {
  const { minutes, threads = 2, frameworks = TTA_FRAMEWORKS, progress = true, logger = WARNINGS_ONLY } = options;
  if (!(Number.isFinite(minutes) && minutes > 0)) throw new TtaError(`--minutes must be a number > 0, got ${minutes}`);
  const presets = resolveTtaPresets(options.presets);
  const dataArg = options.data ?? DEFAULT_TTA_DATA;
  const data = resolve(dataArg);
  if (!existsSync(data)) {
    throw new TtaError(
      options.data === undefined
        ? `${dataArg} is missing: make the converted YouTube-Faces set with 'npx nx run experiments:youtube-faces-data'`
        : `--data ${dataArg}: no such file`,
    );
  }
  const out = resolve(options.out ?? DEFAULT_TTA_OUT);
  const runsDir = join(dirname(out), 'tta');
  let file = await readTtaFile(out);
  await mkdir(dirname(out), { recursive: true });

  const machine = machineInfo();
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, load ${machine.loadAverage}`);
  log(`time to accuracy: ${minutes} min per run, ${threads} thread(s), ${presets.join(', ')} × ${frameworks.join(', ')}; data ${shown(data)}${options.limit ? ` (first ${options.limit} rows)` : ''}`);

  const results: TtaResult[] = [];
  const skipped: Array<{ what: string; reason: string }> = [];
  const failed: Array<{ what: string; reason: string }> = [];
  let torch: TorchPython | undefined;
  if (frameworks.includes('pytorch')) {
    torch = options.torch === null ? undefined : (options.torch ?? findTorch());
    if (torch === undefined) {
      const reason = 'no python3 with torch (apt-get install python3-torch libopenblas0-openmp)';
      skipped.push({ what: 'pytorch', reason });
      log(`pytorch: skipped (${reason})`);
    } else {
      log(`pytorch: ${torch.version} (${torch.python}${torch.libraryPath ? `, OpenBLAS from ${torch.libraryPath}` : ', no libopenblas0-openmp: its built-in BLAS'})`);
    }
  }
  const splits = new Map<string, string>();
  const tmp = torch ? await mkdtemp(join(tmpdir(), 'kp-tta-')) : undefined;
  const record = async (result: TtaResult) => {
    results.push(TtaResultSchema.parse(result));
    file = mergeResults(file, [result], machine, minutes);
    await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
  };

  try {
    for (const preset of presets) {
      const runDir = join(runsDir, preset);
      const parsed = resolveTrainConfig({
        model: preset,
        name: preset,
        data,
        maxTime: minutes,
        threads,
        backend: 'wasm',
        seed: 42,
        validationFraction: 0.2,
        out: runDir,
        ...(options.limit !== undefined ? { maxRows: options.limit } : {}),
        ...(options.epochs !== undefined ? { epochs: options.epochs } : {}),
      });
      if (!parsed.success) throw new TtaError(`${preset}: invalid config: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const config = parsed.data;
      const common = {
        preset,
        minutes,
        threads,
        data: shown(data),
        ...(options.limit !== undefined ? { maxRows: options.limit } : {}),
      };

      if (frameworks.includes('keypoints')) {
        log(`keypoints ${preset}: ${minutes} min, at most ${config.epochs} epochs → ${shown(runDir)}`);
        const loadAverage = machineInfo().loadAverage;
        const date = new Date().toISOString();
        try {
          await rm(runDir, { recursive: true, force: true });
          const { metrics } = await trainRun(config, { progress, logger });
          const rows = await readHistory(runDir);
          const result: TtaResult = {
            framework: 'keypoints',
            ...common,
            bestValidRmsePx: metrics.bestValidRmsePx,
            bestEpoch: metrics.bestEpoch,
            epochs: metrics.epochs,
            seconds: metrics.trainSeconds,
            curve: curveFromHistory(rows),
            ...(metrics.stopReason ? { stopReason: metrics.stopReason } : {}),
            detail: `keypoints tfjs ${metrics.backend}, ${threads} thread(s)`,
            trainCount: metrics.trainCount,
            validationCount: metrics.validationCount,
            loadAverage,
            date,
          };
          await record(result);
          log(`  best ${fmt(result.bestValidRmsePx, 3)} px (epoch ${result.bestEpoch} of ${result.epochs}) in ${fmt(result.seconds, 1)} s; ${result.stopReason ?? metrics.status}`);
        } catch (err) {
          const reason = (err as Error).message.split('\n')[0];
          failed.push({ what: `keypoints ${preset}`, reason });
          log(`  failed: ${reason}`);
        }
      }

      if (torch && tmp) {
        log(`pytorch ${preset}: ${minutes} min, at most ${config.epochs} epochs`);
        try {
          const key = splitKey(config);
          let folder = splits.get(key);
          if (folder === undefined) {
            folder = join(tmp, `split-${splits.size}`);
            await writeSplit(config, folder);
            splits.set(key, folder);
          }
          const result = await runTorchPeer(torch, config, { minutes, threads, folder, common, log });
          await record(result);
          log(`  best ${fmt(result.bestValidRmsePx, 3)} px (epoch ${result.bestEpoch} of ${result.epochs}) in ${fmt(result.seconds, 1)} s; ${result.stopReason ?? 'completed'}`);
        } catch (err) {
          const reason = (err as Error).message.split('\n')[0];
          skipped.push({ what: `pytorch ${preset}`, reason });
          log(`  pytorch ${preset} skipped: ${reason}`);
        }
      }
    }
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }

  file ??= mergeResults(undefined, [], machine, minutes);
  file = { ...file, machine, minutes };
  await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
  const rows = file.results.filter((r) => r.minutes === minutes).length;
  const charts = rows > 0 ? await writeTtaCharts(file, minutes, out) : { svg: '', png: '' };
  return { file, results, skipped, failed, written: { json: out, ...charts } };
}

/** Write the split of `config` (as `loadRunData` makes it) as float32 `.npy` files into `folder`. */
async function writeSplit(config: TrainConfig, folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  const { train, validation } = await loadRunData(config);
  const k = keypointSetOf(config).columns.length;
  for (const [side, d] of [['train', train], ['valid', validation]] as const) {
    await writeFile(join(folder, `${side}_images.npy`), npyBytes(d.images, [d.count, 96, 96]));
    await writeFile(join(folder, `${side}_targets.npy`), npyBytes(d.targets, [d.count, k]));
    await writeFile(join(folder, `${side}_mask.npy`), npyBytes(d.mask, [d.count, k]));
  }
  await writeFile(join(folder, 'counts.json'), JSON.stringify({ train: train.count, validation: validation.count }));
}

/**
 * Run `torch-tta.py --check` (no training) with `job` and return its JSON: what the tests compare with the
 * TypeScript side (the peer's augmentations on given parameters, its nets' trainable parameter counts).
 * @throws {Error} when the script fails.
 */
export async function torchCheck(torch: TorchPython, job: object): Promise<unknown> {
  const dir = await mkdtemp(join(tmpdir(), 'kp-tta-check-'));
  try {
    const file = join(dir, 'check.json');
    await writeFile(file, JSON.stringify(job));
    const run = spawnSync(torch.python, [TORCH_SCRIPT, '--check', file], {
      encoding: 'utf8',
      env: torchEnv(1, torch.libraryPath),
      maxBuffer: 256 * 2 ** 20,
    });
    if (run.status !== 0) throw new Error(`torch-tta.py --check exited with ${run.status ?? run.signal}: ${run.stderr.trim().split('\n').at(-1) ?? ''}`);
    return JSON.parse(run.stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A line of the PyTorch peer's per-epoch output. */
interface TorchEpoch {
  epoch: number;
  durationMs: number;
  validRmsePx: number;
}
interface TorchDone {
  done: true;
  epochs: number;
  bestValidRmsePx: number;
  bestEpoch: number;
  seconds: number;
  stopReason: string | null;
  detail: string;
}

/**
 * Run `torch-tta.py` on the split in `folder` with the run's config; its stdout lines become the result.
 * @throws {Error} when the script fails or prints no result (the caller reports it as skipped).
 */
async function runTorchPeer(
  torch: TorchPython,
  config: TrainConfig,
  job: { minutes: number; threads: number; folder: string; common: Pick<TtaResult, 'preset' | 'minutes' | 'threads' | 'data' | 'maxRows'>; log: (line: string) => void },
): Promise<TtaResult> {
  const set = keypointSetOf(config);
  const jobFile = join(job.folder, `job-${config.model}.json`);
  await writeFile(
    jobFile,
    JSON.stringify({ config, minutes: job.minutes, threads: job.threads, data: job.folder, columns: set.columns, flipPairs: set.flipPairs }),
  );
  const counts = JSON.parse(await readFile(join(job.folder, 'counts.json'), 'utf8')) as { train: number; validation: number };
  const loadAverage = machineInfo().loadAverage;
  const date = new Date().toISOString();
  const epochs: TorchEpoch[] = [];
  let done: TorchDone | undefined;
  // A run overruns its budget by at most one epoch; this only guards against a hung process.
  const timeoutMs = job.minutes * 60_000 * 2 + 300_000;
  const { code, signal, tail } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; tail: string }>((done_, fail) => {
    const env = torchEnv(job.threads, torch.libraryPath);
    const child = spawn(torch.python, [TORCH_SCRIPT, jobFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let buffer = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!line.startsWith(TORCH_PREFIX)) continue;
        const msg = JSON.parse(line.slice(TORCH_PREFIX.length)) as TorchEpoch | TorchDone;
        if ('done' in msg) done = msg;
        else {
          epochs.push(msg);
          if (msg.epoch % 10 === 0) job.log(`  epoch ${msg.epoch + 1}: valid ${fmt(msg.validRmsePx, 3)} px, ${fmt(msg.durationMs / 1000, 1)} s`);
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (c, s) => {
      clearTimeout(timer);
      done_({ code: c, signal: s, tail: stderr.trim().split('\n').at(-1) ?? '' });
    });
  });
  if (code !== 0 || done === undefined) throw new Error(`PyTorch peer exited with ${code ?? signal}${tail ? `: ${tail.slice(0, 300)}` : ''}`);
  const d = done as TorchDone;
  return {
    framework: 'pytorch',
    ...job.common,
    bestValidRmsePx: d.bestValidRmsePx,
    bestEpoch: d.bestEpoch,
    epochs: d.epochs,
    seconds: round(d.seconds, 1),
    curve: curveFromHistory(epochs),
    ...(d.stopReason ? { stopReason: d.stopReason } : {}),
    detail: d.detail,
    trainCount: counts.train,
    validationCount: counts.validation,
    loadAverage,
    date,
  };
}
