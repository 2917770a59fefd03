/**
 * Training and inference images/s of a batch-normalized CNN and the same CNN without batch
 * normalization, on the wasm backend, in one process:
 *
 *   npx tsx --conditions=@keypoints/source tools/bench/src/batch-norm-speed.ts [--threads 2] [--batch 64] [--rounds 12] [--steps 2] [--backend <file>]
 *
 * The nets: 4 blocks of a 3×3 'same' conv with 16/32/64/128 filters, then either batch
 * normalization (axis −1) and ReLU after a bias-free conv, or a conv with bias and ReLU, then a
 * 2×2 max pool; flatten, dense 256 ReLU, dense 30; Adam, MSE, 96×96×1 inputs. The two nets take
 * turns (`--steps` training steps each per round, the order alternating), so load from other
 * processes hits both alike; the report gives the median and best of each and the median of the
 * per-round ratios. `--backend` measures another checkout's backend (its `src/index.ts`, e.g.
 * `git archive <rev> plugins/backend-wasm | tar -x -C runs/bn-base` and
 * `--backend runs/bn-base/plugins/backend-wasm/src/index.ts`) for before/after figures.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

interface Options {
  threads: number;
  batch: number;
  rounds: number;
  steps: number;
  backend?: string;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { threads: 2, batch: 64, rounds: 12, steps: 2 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--backend' && value !== undefined) {
      options.backend = value;
      continue;
    }
    const key = flag?.replace(/^--/, '') as keyof Omit<Options, 'backend'>;
    const n = Number(value);
    if (!['threads', 'batch', 'rounds', 'steps'].includes(key) || !Number.isInteger(n) || n < 1) {
      throw new Error(`usage: batch-norm-speed.ts [--threads N] [--batch N] [--rounds N] [--steps N] [--backend file] (got '${flag} ${value}')`);
    }
    options[key] = n;
  }
  return options;
}

/** The benchmark's CNN, with batch normalization (`bn`) or conv bias + ReLU. */
export function batchNormBenchNet(bn: boolean): tf.Sequential {
  const m = tf.sequential({ name: bn ? 'bn4' : 'plain4' });
  for (const [i, filters] of [16, 32, 64, 128].entries()) {
    m.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [96, 96, 1] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        useBias: !bn,
        activation: bn ? 'linear' : 'relu',
      }),
    );
    if (bn) {
      m.add(tf.layers.batchNormalization({ axis: -1 }));
      m.add(tf.layers.reLU());
    }
    m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 256, activation: 'relu' }));
  m.add(tf.layers.dense({ units: 30 }));
  return m;
}

const median = (a: readonly number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];

async function main(options: Options): Promise<void> {
  const backend = (options.backend === undefined
    ? await import('@keypoints/backend-wasm')
    : await import(pathToFileURL(path.resolve(options.backend)).href)) as typeof import('@keypoints/backend-wasm');
  await backend.createWasmBackend({ threads: options.threads }).init();
  const B = options.batch;
  const x = tf.randomUniform([B, 96, 96, 1]);
  const y = tf.randomUniform([B, 30]);
  const nets = [true, false].map((bn) => {
    const model = batchNormBenchNet(bn);
    const optimizer = tf.train.adam(1e-3);
    const step = (): void => {
      const loss = optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true);
      loss?.dataSync();
      loss?.dispose();
    };
    return { name: model.name, model, step, train: [] as number[], infer: [] as number[] };
  });
  for (const net of nets) net.step(); // warm-up
  const ratios: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    for (const net of r % 2 === 0 ? nets : [...nets].reverse()) {
      const t0 = performance.now();
      for (let i = 0; i < options.steps; i++) net.step();
      net.train.push((B * options.steps) / ((performance.now() - t0) / 1000));
    }
    ratios.push(nets[0].train[r] / nets[1].train[r]);
  }
  for (let r = 0; r < Math.max(3, Math.ceil(options.rounds / 4)); r++) {
    for (const net of nets) {
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) tf.tidy(() => (net.model.predict(x) as tf.Tensor).dataSync());
      net.infer.push((B * 3) / ((performance.now() - t0) / 1000));
    }
  }
  console.log(`wasm, ${options.threads} thread(s), batch ${B}, ${options.rounds} rounds of ${options.steps} steps per net; images/s (median, best)`);
  for (const net of nets) {
    console.log(
      `${net.name}: train ${median(net.train).toFixed(1)} (${Math.max(...net.train).toFixed(1)}), infer ${median(net.infer).toFixed(1)} (${Math.max(...net.infer).toFixed(1)})`,
    );
  }
  console.log(`bn4 / plain4 training, per round: median ${median(ratios).toFixed(2)} [${ratios.map((v) => v.toFixed(2)).join(' ')}]`);
}

await main(parseArgs(process.argv.slice(2)));
