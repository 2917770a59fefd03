import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MachineInfo, machineInfo } from './machine.js';
import { type BenchNet } from './nets.js';
import { RESULT_PREFIX, type TfjsBenchBackend, type TfjsBenchOptions, type TfjsBenchResult } from './tfjs-train.bench.js';
import { type TorchBenchResult, benchTorch, findTorch } from './torch.js';

/** Options of {@link runTrainBench}. */
export interface TrainBenchOptions {
  readonly nets: readonly BenchNet[];
  /** tfjs backends to try; one that is not installed is reported as skipped. */
  readonly backends: readonly TfjsBenchBackend[];
  /** Thread counts (wasm and PyTorch; the pure-JS cpu backend has one). */
  readonly threads: readonly number[];
  /** Nets for the pure-JS cpu backend (it trains net2 at ~0.2 images/s). */
  readonly cpuNets: readonly BenchNet[];
  readonly images: number;
  readonly batch: number;
  readonly epochs: number;
  /** Run the PyTorch peer when torch is importable. */
  readonly torch: boolean;
  readonly profile: boolean;
  /** Folder for the JSON results. */
  readonly outDir: string;
}

export interface BenchRow {
  readonly framework: string;
  readonly backend: string;
  readonly threads: number;
  readonly net: BenchNet;
  readonly train: number;
  readonly infer: number;
}

export interface TrainBenchReport {
  readonly kind: 'bench:train';
  readonly date: string;
  readonly machine: MachineInfo;
  readonly options: TrainBenchOptions;
  readonly runs: ReadonlyArray<TfjsBenchResult | TorchBenchResult>;
  readonly skipped: ReadonlyArray<{ what: string; reason: string }>;
  readonly rows: readonly BenchRow[];
}

/** Thread counts to measure on a machine with `cores` cores: 1, 2, 4, … and `cores`. */
export function defaultThreadCounts(cores: number): number[] {
  const out = new Set<number>();
  for (let t = 1; t < cores; t *= 2) out.add(t);
  out.add(Math.max(1, cores));
  return [...out].sort((a, b) => a - b);
}

const WORKER = fileURLToPath(new URL('./tfjs-worker.ts', import.meta.url));

function runTfjs(options: TfjsBenchOptions): TfjsBenchResult | { error: string } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(options)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 2 ** 20,
  });
  const line = child.stdout
    ?.split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_PREFIX));
  if (line === undefined) return { error: `benchmark process exited with ${child.status ?? child.signal} and no result` };
  return JSON.parse(line.slice(RESULT_PREFIX.length)) as TfjsBenchResult | { error: string };
}

/**
 * Run the training benchmark: each tfjs backend × thread count in its own process, then the
 * PyTorch peer per thread count when torch is installed, and collect images/s per net.
 */
export function runTrainBench(options: TrainBenchOptions, log: (line: string) => void = console.log): TrainBenchReport {
  const machine = machineInfo();
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, load ${machine.loadAverage}`);
  const runs: Array<TfjsBenchResult | TorchBenchResult> = [];
  const skipped: Array<{ what: string; reason: string }> = [];
  const base = { images: options.images, batch: options.batch, epochs: options.epochs, profile: options.profile };
  for (const backend of options.backends) {
    const threadList = backend === 'wasm' ? options.threads : [1];
    const nets = backend === 'cpu' ? options.cpuNets : options.nets;
    if (nets.length === 0) continue;
    for (const threads of threadList) {
      log(`tfjs ${backend}, ${threads} thread(s): ${nets.join(', ')}`);
      const result = runTfjs({ ...base, backend, threads, nets });
      if ('error' in result) {
        skipped.push({ what: `tfjs ${backend} ${threads}t`, reason: result.error.split(';')[0] });
        log(`  skipped: ${result.error.split(';')[0]}`);
      } else {
        runs.push(result);
      }
    }
  }
  if (options.torch) {
    const torch = findTorch();
    if (torch === undefined) {
      skipped.push({ what: 'pytorch', reason: 'no python3 with torch (apt-get install python3-torch)' });
      log('pytorch: skipped (no python3 with torch; `apt-get install python3-torch libopenblas0-openmp` to compare)');
    } else {
      for (const threads of options.threads) {
        log(`pytorch ${torch.version} (${torch.python}${torch.libraryPath ? `, OpenBLAS from ${torch.libraryPath}` : ''}), ${threads} thread(s)`);
        const result = benchTorch(torch, { threads, nets: options.nets, images: options.images, batch: options.batch, epochs: options.epochs });
        if ('error' in result) {
          skipped.push({ what: `pytorch ${threads}t`, reason: result.error });
          log(`  skipped: ${result.error}`);
        } else {
          runs.push(result);
        }
      }
    }
  }
  const rows: BenchRow[] = runs.flatMap((r) =>
    r.nets.map((n) => ({
      framework: r.framework,
      backend: r.framework === 'tfjs' ? (r as TfjsBenchResult).backend : 'cpu',
      threads: r.threads,
      net: n.net,
      train: n.train.median,
      infer: n.infer.median,
    })),
  );
  return { kind: 'bench:train', date: new Date().toISOString(), machine, options, runs, skipped, rows };
}

/** The report as a Markdown table, with each tfjs row's ratio to PyTorch at the same thread count. */
export function formatTable(report: TrainBenchReport): string {
  const torch = (net: string, threads: number) =>
    report.rows.find((r) => r.framework === 'pytorch' && r.net === net && r.threads === threads);
  const fmt = (v: number) => (v >= 1000 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  const lines = [
    `| net | framework / backend | threads | train img/s | infer img/s | train / PyTorch | infer / PyTorch |`,
    `|---|---|---|---|---|---|---|`,
  ];
  const order = (r: BenchRow) => `${r.net} ${r.framework === 'pytorch' ? 'z' : 'a'} ${r.backend} ${String(r.threads).padStart(3)}`;
  for (const r of [...report.rows].sort((a, b) => order(a).localeCompare(order(b)))) {
    const peer = r.framework === 'tfjs' ? torch(r.net, r.threads) : undefined;
    const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : '–');
    lines.push(
      `| ${r.net} | ${r.framework === 'pytorch' ? 'PyTorch' : `tfjs ${r.backend}`} | ${r.threads} | ${fmt(r.train)} | ${fmt(r.infer)} | ` +
        `${ratio(r.train, peer?.train)} | ${ratio(r.infer, peer?.infer)} |`,
    );
  }
  return lines.join('\n');
}

/** Write the report to `<outDir>/train-<date>.json` and `<outDir>/train-latest.json`. */
export function writeReport(report: TrainBenchReport, outDir: string): string {
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `train-${report.date.replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dirname(file), 'train-latest.json'), text);
  return file;
}
