import type * as TF from '@tensorflow/tfjs';
import { type BenchNet, buildBenchNet } from './nets.js';
import { type Rate, rate } from './stats.js';

/** Marks the result line a benchmark child process prints on stdout. */
export const RESULT_PREFIX = '@@bench-result ';

/** tfjs backends the benchmark knows (`node` is tfjs-node, when installed). */
export const TFJS_BENCH_BACKENDS = ['wasm', 'cpu', 'node'] as const;
export type TfjsBenchBackend = (typeof TFJS_BENCH_BACKENDS)[number];

/** What one tfjs benchmark process measures. */
export interface TfjsBenchOptions {
  readonly backend: TfjsBenchBackend;
  /** Threads (wasm only; tfjs fixes them per process). */
  readonly threads: number;
  readonly nets: readonly BenchNet[];
  /** Images per epoch (random, fixed for the run). */
  readonly images: number;
  /** Batch size (128 in the tutorial). */
  readonly batch: number;
  /** Timed epochs after one warm-up epoch; the median is reported. */
  readonly epochs: number;
  /** Also profile one training step of each net by kernel (tf.profile). */
  readonly profile?: boolean;
}

/** Kernel time of one training step, by kernel name (milliseconds). */
export interface StepProfile {
  readonly totalMs: number;
  readonly byKernel: ReadonlyArray<readonly [string, number]>;
}

export interface NetBenchResult {
  readonly net: BenchNet;
  /** `model.fit` images/s over whole epochs (SGD, Nesterov momentum 0.9, MSE). */
  readonly train: Rate;
  /** `model.predict` images/s. */
  readonly infer: Rate;
  readonly finalLoss: number;
  /** Tensors left behind per timed epoch (should be 0). */
  readonly leakedTensorsPerEpoch: number;
  readonly profile?: StepProfile;
}

export interface TfjsBenchResult {
  readonly framework: 'tfjs';
  readonly backend: TfjsBenchBackend;
  readonly threads: number;
  readonly detail: string;
  readonly options: TfjsBenchOptions;
  readonly nets: readonly NetBenchResult[];
}

async function initBackend(tf: typeof TF, backend: TfjsBenchBackend, threads: number): Promise<string> {
  if (backend === 'wasm') {
    const { createWasmBackend, wasmBackendInfo } = await import('@keypoints/backend-wasm');
    await createWasmBackend({ threads }).init();
    const info = wasmBackendInfo();
    return `tfjs-backend-wasm threaded-SIMD, ${info?.threads} thread(s), training kernels ${info?.trainingKernels ? 'on' : 'off'}`;
  }
  if (backend === 'cpu') {
    const { createCpuBackend } = await import('@keypoints/backend-cpu');
    await createCpuBackend().init();
    return 'tfjs cpu (pure JS)';
  }
  const { createNodeBackend } = await import('@keypoints/backend-node');
  await createNodeBackend().init();
  return `tfjs-node (${tf.getBackend()})`;
}

/**
 * Measure training and inference throughput of the bench nets on one tfjs backend, in this
 * process (the backend and its thread count are fixed for the process by tfjs).
 *
 * @throws {BackendInitError} when the backend cannot start (e.g. tfjs-node not installed).
 */
export async function benchTfjs(options: TfjsBenchOptions, log: (line: string) => void = () => {}): Promise<TfjsBenchResult> {
  const tf = await import('@tensorflow/tfjs');
  const detail = await initBackend(tf, options.backend, options.threads);
  log(`${options.backend}: ${detail}`);
  const { images, batch, epochs } = options;
  const xs = tf.randomUniform([images, 96, 96, 1], 0, 1, 'float32', 1234);
  const ys = tf.randomUniform([images, 30], -1, 1, 'float32', 4321);
  const nets: NetBenchResult[] = [];
  for (const net of options.nets) {
    const model = buildBenchNet(tf, net);
    model.compile({ optimizer: tf.train.momentum(0.01, 0.9, true), loss: 'meanSquaredError' });
    const fitEpoch = async () => {
      const h = await model.fit(xs, ys, { batchSize: batch, epochs: 1, shuffle: false, verbose: 0 });
      return (h.history.loss as number[])[0];
    };
    const inferEpoch = async () => {
      const p = model.predict(xs, { batchSize: batch }) as TF.Tensor;
      await p.data();
      p.dispose();
    };
    const timed = async (f: () => Promise<unknown>): Promise<{ runs: number[]; leaked: number }> => {
      await f(); // warm-up: operator creation, memory growth
      const before = tf.memory().numTensors;
      const runs: number[] = [];
      for (let e = 0; e < epochs; e++) {
        const t0 = performance.now();
        await f();
        runs.push(images / ((performance.now() - t0) / 1000));
      }
      return { runs, leaked: (tf.memory().numTensors - before) / epochs };
    };
    const train = await timed(fitEpoch);
    const finalLoss = await fitEpoch();
    const infer = await timed(inferEpoch);
    let profile: StepProfile | undefined;
    if (options.profile) {
      const xb = xs.slice(0, Math.min(batch, images));
      const yb = ys.slice(0, Math.min(batch, images));
      const info = await tf.profile(async () => {
        await model.trainOnBatch(xb, yb);
      });
      const by = new Map<string, number>();
      for (const k of info.kernels) by.set(k.name, (by.get(k.name) ?? 0) + Number(k.kernelTimeMs));
      const byKernel = [...by].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(v.toFixed(1))] as const);
      profile = { totalMs: Number(byKernel.reduce((s, [, v]) => s + v, 0).toFixed(1)), byKernel };
      tf.dispose([xb, yb]);
    }
    const result: NetBenchResult = {
      net,
      train: rate(train.runs),
      infer: rate(infer.runs),
      finalLoss,
      leakedTensorsPerEpoch: train.leaked,
      ...(profile ? { profile } : {}),
    };
    log(
      `${options.backend} ${options.threads}t ${net}: train ${result.train.median.toFixed(1)} img/s, ` +
        `infer ${result.infer.median.toFixed(1)} img/s` +
        (profile ? `; one step ${profile.totalMs} ms in kernels: ${profile.byKernel.slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''),
    );
    nets.push(result);
    model.dispose();
  }
  tf.dispose([xs, ys]);
  return { framework: 'tfjs', backend: options.backend, threads: options.threads, detail, options, nets };
}
