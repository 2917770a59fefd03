/**
 * `npx nx run bench:train` (or `npx tsx --conditions=@keypoints/source tools/bench/src/main.ts train --help`): training and
 * inference images/s of net1, net2 and net6 at batch 128 on every installed tfjs backend and
 * thread count, and PyTorch's on the same machine when `python3-torch` is installed.
 *
 * `npx nx run bench:time-to-accuracy -- --minutes=N` (`main.ts time-to-accuracy --help`): the validation RMSE
 * net4, net5 and the modern presets reach in N minutes each, vs PyTorch with the same recipe (time-to-accuracy.ts).
 */
import { Command, Option } from 'commander';
import { machineInfo } from './machine.js';
import { BENCH_NETS, type BenchNet } from './nets.js';
import { TFJS_BENCH_BACKENDS, type TfjsBenchBackend } from './tfjs-train.bench.js';
import { defaultThreadCounts, formatTable, runTrainBench, writeReport } from './train.js';

const list = <T extends string>(allowed: readonly T[]) => (value: string): T[] => {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown value '${item}'; expected one of ${allowed.join(', ')}`);
  }
  return items as T[];
};
const ints = (value: string): number[] =>
  value.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`not a positive integer: '${s}'`);
    return n;
  });
const positive = (value: string): number => ints(value)[0];

const program = new Command('bench').description('keypoints benchmarks');
program
  .command('train')
  .description('training and inference images/s of net1, net2, net6 (batch 128) per backend and thread count, vs PyTorch')
  .addOption(new Option('--nets <list>', 'nets').default([...BENCH_NETS]).argParser(list(BENCH_NETS)))
  .addOption(new Option('--backends <list>', 'tfjs backends (node = tfjs-node, skipped when not installed)').default(['wasm', 'cpu', 'node']).argParser(list(TFJS_BENCH_BACKENDS)))
  .addOption(new Option('--threads <list>', 'thread counts (default: 1, 2, 4, … and all cores)').argParser(ints))
  .addOption(new Option('--cpu-nets <list>', 'nets on the pure-JS cpu backend (net2 trains at ~0.2 img/s there)').default(['net1']).argParser(list(BENCH_NETS)))
  .addOption(new Option('--images <n>', 'random images per epoch').default(512).argParser(positive))
  .addOption(new Option('--batch <n>', 'batch size').default(128).argParser(positive))
  .addOption(new Option('--epochs <n>', 'timed epochs after one warm-up epoch (median reported)').default(3).argParser(positive))
  .option('--no-torch', 'skip the PyTorch peer')
  .option('--profile', 'also profile one training step per net by kernel', false)
  .option('--out <dir>', 'folder for the JSON report', 'runs/bench')
  .action((opts: {
    nets: BenchNet[]; backends: TfjsBenchBackend[]; threads?: number[]; cpuNets: BenchNet[]; images: number;
    batch: number; epochs: number; torch: boolean; profile: boolean; out: string;
  }) => {
    const threads = opts.threads ?? defaultThreadCounts(machineInfo().cores);
    const report = runTrainBench({
      nets: opts.nets, backends: opts.backends, threads, cpuNets: opts.cpuNets, images: opts.images, batch: opts.batch,
      epochs: opts.epochs, torch: opts.torch, profile: opts.profile, outDir: opts.out,
    });
    const m = report.machine;
    console.log(`\n## bench:train — ${m.cpuModel}, ${m.cores} cores, ${m.platform}, Node ${m.node} (load ${m.loadAverage} at start)`);
    console.log(`batch ${opts.batch}, ${opts.images} images per epoch, median of ${opts.epochs} epochs after a warm-up; images/s\n`);
    console.log(formatTable(report));
    for (const s of report.skipped) console.log(`skipped ${s.what}: ${s.reason}`);
    console.log(`\nwrote ${writeReport(report, opts.out)}`);
  });

const number = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a number > 0: '${value}'`);
  return n;
};
const names = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

program
  .command('time-to-accuracy')
  .description('validation RMSE reached in N minutes of training per preset (net4, net5, every modern preset), vs PyTorch with the same recipe and split')
  .addOption(new Option('--minutes <n>', 'time budget per run, minutes (fractions allowed)').default(30).argParser(number))
  .addOption(new Option('--presets <list>', 'presets (default: net4, net5 and every modern preset)').argParser(names))
  .addOption(new Option('--frameworks <list>', 'keypoints, pytorch (skipped with the reason when torch is not installed)').default(['keypoints', 'pytorch']).argParser(list(['keypoints', 'pytorch'] as const)))
  .option('--data <file>', 'Kaggle-format training file (default: runs/data/youtube-faces/training.csv.gz, from experiments:youtube-faces-data)')
  .addOption(new Option('--limit <n>', 'read only the first N rows (quick checks)').argParser(positive))
  .addOption(new Option('--threads <n>', 'wasm backend and PyTorch threads').default(2).argParser(positive))
  .addOption(new Option('--epochs <n>', "maximum epochs (default: the preset's; the time budget stops a run first)").argParser(positive))
  .option('--out <file>', 'results JSON, merged (charts beside it)', 'runs/bench/time-to-accuracy.json')
  .option('--no-progress', 'no progress bars / lines of the keypoints runs')
  .action(async (opts: {
    minutes: number; presets?: string[]; frameworks: Array<'keypoints' | 'pytorch'>; data?: string; limit?: number; threads: number;
    epochs?: number; out: string; progress: boolean;
  }) => {
    const tta = await import('./time-to-accuracy.js');
    try {
      const report = await tta.runTimeToAccuracy({
        minutes: opts.minutes, frameworks: opts.frameworks, threads: opts.threads, out: opts.out, progress: opts.progress,
        ...(opts.presets ? { presets: opts.presets } : {}), ...(opts.data ? { data: opts.data } : {}),
        ...(opts.limit ? { limit: opts.limit } : {}), ...(opts.epochs ? { epochs: opts.epochs } : {}),
      });
      const m = report.file.machine;
      console.log(`\n## bench:time-to-accuracy — ${opts.minutes} min per run, ${opts.threads} thread(s); ${m.cpuModel}, ${m.cores} cores, ${m.platform}, Node ${m.node} (load ${m.loadAverage})\n`);
      console.log(tta.formatTtaTable(report.file, opts.minutes));
      for (const s of [...report.skipped, ...report.failed]) console.log(`${report.failed.includes(s) ? 'failed' : 'skipped'} ${s.what}: ${s.reason}`);
      console.log(`\nwrote ${report.written.json}${report.written.svg ? `, ${report.written.svg}, ${report.written.png}` : ''}`);
      if (report.failed.length > 0) process.exitCode = 1;
    } catch (err) {
      if (!(err instanceof tta.TtaError)) throw err;
      process.stderr.write(`bench:time-to-accuracy: ${err.message}\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
