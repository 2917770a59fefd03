/**
 * `npx nx run bench:train` (or `npx tsx --conditions=@keypoints/source tools/bench/src/main.ts train --help`): training and
 * inference images/s of net1, net2 and net6 at batch 128 on every installed tfjs backend and
 * thread count, and PyTorch's on the same machine when `python3-torch` is installed.
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

await program.parseAsync(process.argv);
