import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FULL_KEYPOINT_SET } from '@keypoints/core';
import { affineTransformSample, flipSamples, photometricSample, type MutableBatch } from '@keypoints/data';
import { DEFAULT_TRAINING_DATA, buildModel, callbacksOf, loadRunData, resolveTrainConfig, type TrainConfig } from '@keypoints/pipeline';
import { machineInfo } from './machine.js';
import {
  TtaError,
  TtaFileSchema,
  curveFromHistory,
  defaultTtaPresets,
  formatTtaTable,
  mergeResults,
  npyBytes,
  readTtaFile,
  resolveTtaPresets,
  runTimeToAccuracy,
  torchCheck,
  ttaChartSpec,
  type TtaResult,
} from './time-to-accuracy.js';
import { findTorch } from './torch.js';

const result = (over: Partial<TtaResult>): TtaResult => ({
  framework: 'keypoints',
  preset: 'conv4',
  minutes: 30,
  bestValidRmsePx: 2,
  bestEpoch: 10,
  epochs: 12,
  seconds: 1790,
  curve: [[100, 5], [200, 2]],
  threads: 2,
  detail: 'test',
  trainCount: 3000,
  validationCount: 800,
  data: 'runs/data/youtube-faces/training.csv.gz',
  loadAverage: 1,
  date: '2025-01-01T00:00:00.000Z',
  ...over,
});

const machine = machineInfo();
/** One wasm thread in the tiny runs: cheap on a shared machine (the default, 2, is what the bench measures). */
const THREADS = 1;
const quiet = () => {};

describe('time-to-accuracy plumbing', () => {
  it('defaults to net4, net5 and every modern preset; resolves recommended; rejects unknown presets', () => {
    expect(defaultTtaPresets()).toEqual(['net4', 'net5', 'conv4', 'conv4bn', 'conv4x2']);
    expect(resolveTtaPresets(['recommended', 'conv4', 'net4'])).toEqual(['conv4', 'net4']);
    expect(() => resolveTtaPresets(['net9'])).toThrow(TtaError);
    expect(() => resolveTtaPresets(['net9'])).toThrow(/unknown preset 'net9'/);
  });

  it('curve from a history: cumulative durationMs in seconds against the validation RMSE; epochs without one add time only', () => {
    const rows = [
      { durationMs: 1500, validRmsePx: 9 },
      { durationMs: 1000, validRmsePx: Number.NaN },
      { durationMs: 2500.4, validRmsePx: 4.123456789 },
    ];
    expect(curveFromHistory(rows)).toEqual([[1.5, 9], [5.0, 4.12346]]);
    expect(curveFromHistory([])).toEqual([]);
  });

  it('merges: replaces the entries of the same framework + preset + minutes, keeps the others', () => {
    const existing = mergeResults(
      undefined,
      [
        result({ preset: 'conv4', framework: 'keypoints', minutes: 30, bestValidRmsePx: 3 }),
        result({ preset: 'conv4', framework: 'pytorch', minutes: 30, bestValidRmsePx: 2.5 }),
        result({ preset: 'conv4', framework: 'keypoints', minutes: 5, bestValidRmsePx: 4 }),
        result({ preset: 'net4', framework: 'keypoints', minutes: 30, bestValidRmsePx: 6 }),
      ],
      machine,
      30,
    );
    const merged = mergeResults(existing, [result({ preset: 'conv4', framework: 'keypoints', minutes: 30, bestValidRmsePx: 1.5 })], machine, 30);
    expect(TtaFileSchema.parse(merged)).toEqual(merged);
    const summary = merged.results.map((r) => [r.minutes, r.preset, r.framework, r.bestValidRmsePx]);
    // Sorted by minutes, ladder order, keypoints before PyTorch; only the conv4/keypoints/30 entry changed.
    expect(summary).toEqual([
      [5, 'conv4', 'keypoints', 4],
      [30, 'net4', 'keypoints', 6],
      [30, 'conv4', 'keypoints', 1.5],
      [30, 'conv4', 'pytorch', 2.5],
    ]);
    expect(mergeResults(merged, [], machine, 5).results).toHaveLength(4);
  });

  it('prints the table of one budget with the keypoints / PyTorch ratios where both exist', () => {
    const file = mergeResults(
      undefined,
      [
        result({ preset: 'conv4', framework: 'keypoints', bestValidRmsePx: 2.2, epochs: 20, seconds: 1795.04 }),
        result({ preset: 'conv4', framework: 'pytorch', bestValidRmsePx: 2, epochs: 40, seconds: 1799.5 }),
        result({ preset: 'net5', framework: 'keypoints', bestValidRmsePx: 3.1234, epochs: 7 }),
        result({ preset: 'net5', framework: 'keypoints', minutes: 1, bestValidRmsePx: 9 }),
      ],
      machine,
      30,
    );
    const lines = formatTtaTable(file, 30).split('\n');
    expect(lines[0]).toBe('| preset | framework | best valid RMSE (px) | epochs | seconds | RMSE keypoints / PyTorch | epochs keypoints / PyTorch |');
    expect(lines.slice(2)).toEqual([
      '| net5 | keypoints | 3.123 | 7 | 1790.0 | – | – |',
      '| conv4 | keypoints | 2.200 | 20 | 1795.0 | 1.10 | 0.50 |',
      '| conv4 | PyTorch | 2.000 | 40 | 1799.5 | – | – |',
    ]);
    expect(formatTtaTable(file, 1).split('\n')).toHaveLength(3);
  });

  it('charts RMSE (log scale) against wall time in minutes, one line per preset and framework', () => {
    const file = mergeResults(undefined, [result({ curve: [[60, 4], [120, 3]] }), result({ framework: 'pytorch', curve: [[30, 5]] })], machine, 30);
    const spec = ttaChartSpec(file, 30) as unknown as { data: { values: unknown[] }; encoding: { y: { scale: { type: string } } } };
    expect(spec.encoding.y.scale.type).toBe('log');
    expect(spec.data.values).toEqual([
      { preset: 'conv4', framework: 'keypoints', run: 'conv4 keypoints', minutes: 1, rmse: 4 },
      { preset: 'conv4', framework: 'keypoints', run: 'conv4 keypoints', minutes: 2, rmse: 3 },
      { preset: 'conv4', framework: 'PyTorch', run: 'conv4 pytorch', minutes: 0.5, rmse: 5 },
    ]);
  });

  it('writes .npy files NumPy reads: magic, version 1.0, a header padded to 64 bytes, little-endian float32', () => {
    const bytes = npyBytes(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const headerLength = bytes.readUInt16LE(8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes.subarray(10, 10 + headerLength).toString('latin1')).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
    expect(bytes.readFloatLE(10 + headerLength + 4 * 5)).toBe(6);
    expect(() => npyBytes(new Float32Array(5), [2, 3])).toThrow(RangeError);
  });

  it('a missing data file or a results file of another kind is one clear error, before anything runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-tta-err-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await expect(runTimeToAccuracy({ minutes: 1 }, quiet)).rejects.toThrow(
        "runs/data/youtube-faces/training.csv.gz is missing: make the converted YouTube-Faces set with 'npx nx run experiments:youtube-faces-data'",
      );
    } finally {
      process.chdir(cwd);
    }
    await expect(runTimeToAccuracy({ minutes: 1, data: join(dir, 'nope.csv') }, quiet)).rejects.toThrow(/--data .*nope\.csv: no such file/);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"results": 3}');
    await expect(readTtaFile(bad)).rejects.toThrow(TtaError);
    await expect(runTimeToAccuracy({ minutes: 1, data: DEFAULT_TRAINING_DATA, out: bad }, quiet)).rejects.toThrow(/bad\.json: not a time-to-accuracy results file/);
  });
});

describe('time-to-accuracy runs', () => {
  it('a tiny keypoints run (conv4, 0.05 min, 120 rows of the embedded sample) writes a results file that matches the schema, and the charts', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'kp-tta-')), 'tta.json');
    const lines: string[] = [];
    const report = await runTimeToAccuracy(
      { minutes: 0.05, limit: 120, presets: ['conv4'], frameworks: ['keypoints'], data: DEFAULT_TRAINING_DATA, out, progress: false, threads: THREADS },
      (l) => lines.push(l),
    );
    expect(report.failed).toEqual([]);
    const file = TtaFileSchema.parse(JSON.parse(await readFile(out, 'utf8')));
    expect(file).toEqual(report.file);
    expect(file.minutes).toBe(0.05);
    expect(file.results).toHaveLength(1);
    const r = file.results[0];
    expect(r).toMatchObject({ framework: 'keypoints', preset: 'conv4', minutes: 0.05, threads: THREADS, maxRows: 120 });
    expect(r.curve).toHaveLength(r.epochs);
    expect(Math.min(...r.curve.map(([, rmse]) => rmse))).toBeCloseTo(r.bestValidRmsePx, 3);
    expect(r.stopReason).toMatch(/^time budget of 0.05 min spent/);
    expect(existsSync(join(out, '..', 'tta', 'conv4', 'metrics.json'))).toBe(true);
    expect((await readFile(report.written.svg, 'utf8')).startsWith('<svg')).toBe(true);
    expect((await readFile(report.written.png)).subarray(1, 4).toString()).toBe('PNG');
    expect(lines[0]).toMatch(/^machine: /);
    // A second invocation with another preset keeps the first one's entry.
    const again = await runTimeToAccuracy(
      { minutes: 0.05, limit: 120, presets: ['net1'], frameworks: ['keypoints'], data: DEFAULT_TRAINING_DATA, out, progress: false, threads: THREADS },
      quiet,
    );
    expect(again.file.results.map((x) => x.preset)).toEqual(['net1', 'conv4']);
    expect(formatTtaTable(again.file, 0.05).split('\n')).toHaveLength(4);
  }, 180_000);

  const torch = findTorch();
  it.skipIf(torch === undefined)(
    `a tiny PyTorch peer run (net5 and conv4, 0.05 min, 120 rows) matches the schema${torch === undefined ? ' — skipped: no python3 with torch (apt-get install python3-torch libopenblas0-openmp)' : ''}`,
    async () => {
      const out = join(await mkdtemp(join(tmpdir(), 'kp-tta-torch-')), 'tta.json');
      const report = await runTimeToAccuracy(
        { minutes: 0.05, limit: 120, presets: ['net5', 'conv4'], frameworks: ['pytorch'], data: DEFAULT_TRAINING_DATA, out, torch },
        quiet,
      );
      expect(report.skipped).toEqual([]);
      const file = TtaFileSchema.parse(JSON.parse(await readFile(out, 'utf8')));
      expect(file.results.map((r) => [r.framework, r.preset])).toEqual([['pytorch', 'net5'], ['pytorch', 'conv4']]);
      for (const r of file.results) {
        expect(r.curve).toHaveLength(r.epochs);
        expect(r.detail).toMatch(/^PyTorch .*2 thread/);
        expect(r.stopReason).toMatch(/^time budget of 0.05 min spent/);
        // The peer trained on the split loadRunData makes: same counts as a keypoints run of the same settings.
        expect(r.trainCount + r.validationCount).toBe(120);
      }
    },
    180_000,
  );

  it('without torch the peer is skipped with the reason, and the bench does not fail', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'kp-tta-none-')), 'tta.json');
    const lines: string[] = [];
    const report = await runTimeToAccuracy(
      { minutes: 0.05, limit: 120, presets: ['conv4'], frameworks: ['pytorch'], data: DEFAULT_TRAINING_DATA, out, torch: null },
      (l) => lines.push(l),
    );
    expect(report.skipped).toEqual([{ what: 'pytorch', reason: 'no python3 with torch (apt-get install python3-torch libopenblas0-openmp)' }]);
    expect(report.failed).toEqual([]);
    expect(lines).toContain('pytorch: skipped (no python3 with torch (apt-get install python3-torch libopenblas0-openmp))');
    expect(TtaFileSchema.parse(JSON.parse(await readFile(out, 'utf8'))).results).toEqual([]);
  });
});

describe('the PyTorch peer reproduces our recipe', () => {
  const torch = findTorch();
  const why = torch === undefined ? ' — skipped: no python3 with torch (apt-get install python3-torch libopenblas0-openmp)' : '';
  const configOf = (model: string, over: object = {}): TrainConfig => {
    const parsed = resolveTrainConfig({ model: model as TrainConfig['model'], data: DEFAULT_TRAINING_DATA, ...over });
    if (!parsed.success) throw new Error(parsed.error.message);
    return parsed.data;
  };

  it.skipIf(torch === undefined)(`builds nets with the trainable parameters of buildModel (net1, Nouri's CNN with its options, the modern conv net with its options)${why}`, async () => {
    await tf.setBackend('cpu');
    const configs = ['net1', 'net4', 'net5', 'net6', 'net7', 'conv4', 'conv4x2'].map((m) => configOf(m));
    configs.push(configOf('conv4', { convNet: { filters: [8, 16, 32], convsPerBlock: 2, batchNorm: false, dense: 64, dropout: 0.2 } }));
    configs.push(configOf('net4', { padding: 'same' }));
    const ours = configs.map((c) => {
      const model = buildModel(c);
      const n = model.trainableWeights.reduce((a, w) => a + (w.shape as number[]).reduce((x, y) => x * y, 1), 0);
      model.dispose();
      return n;
    });
    const theirs = (await torchCheck(torch!, { mode: 'params', configs, outputs: 30 })) as { trainable: number[] };
    expect(theirs.trainable).toEqual(ours);
  });

  it.skipIf(torch === undefined)(`plans the schedules as ScheduleCallback does with a time budget (linear lr + momentum, cosine with warm-up)${why}`, async () => {
    // Epoch durations (ms) that change, so the epochs that fit in the budget are re-planned as the run goes.
    const durations = [9000, 11000, 10000, 14000, 12000, 8000, 30000, 12000, 10000, 10000, 10000, 10000];
    for (const [model, minutes] of [['net5', 2], ['conv4', 1.5], ['conv4', 60]] as const) {
      const config = { ...configOf(model), maxTime: minutes };
      const ours: Record<string, number[]> = {};
      for (const cb of callbacksOf(config)) {
        const s = cb as unknown as { name: string; valueAt?: (e: number, n: number) => number; onFitStart: Function; onEpochEnd: Function };
        if (s.valueAt === undefined) continue;
        s.onFitStart({ epoch: 0, epochs: config.epochs });
        const values: number[] = [];
        durations.forEach((durationMs, e) => {
          values.push(s.valueAt!(e, config.epochs));
          s.onEpochEnd({ epoch: e, logs: { durationMs } });
        });
        ours[s.name === 'learningRate-schedule' ? 'learningRate' : 'momentum'] = values;
      }
      const theirs = (await torchCheck(torch!, { mode: 'schedule', config, minutes, durations })) as Record<string, number[]>;
      expect(Object.keys(theirs).sort()).toEqual(Object.keys(ours).sort());
      for (const key of Object.keys(ours)) {
        ours[key].forEach((v, e) => expect(theirs[key][e], `${model} ${minutes} min ${key} epoch ${e}`).toBeCloseTo(v, 12));
      }
    }
  });

  it.skipIf(torch === undefined)(`flips, moves and recolours faces as our augmentations do, on given parameters${why}`, async () => {
    const { train } = await loadRunData(configOf('conv4', { maxRows: 40 }));
    const size = 4;
    const k = FULL_KEYPOINT_SET.columns.length;
    const batch = (): MutableBatch => ({
      size,
      images: train.images.slice(0, size * 9216),
      targets: train.targets.slice(0, size * k),
      mask: train.mask.slice(0, size * k),
    });
    // The last sample's shift pushes keypoints out of the frame (masked), the rest are in the augmentation's range.
    const affine = [[2.5, -1.25, 7, 1.04], [-3, 0.5, -9.5, 0.95], [0.3, 2.9, 0, 1], [40, -6, 4, 1.02]];
    const photometric = [[1.3, 0.1], [0.7, -0.1], [1, 0.05], [1.12, -0.03]];
    const flip = [1, 3];
    const theirs = (await torchCheck(torch!, {
      mode: 'augment',
      images: Array.from({ length: size }, (_, i) => Array.from(train.images.subarray(i * 9216, (i + 1) * 9216))),
      targets: Array.from({ length: size }, (_, i) => Array.from(train.targets.subarray(i * k, (i + 1) * k))),
      mask: Array.from({ length: size }, (_, i) => Array.from(train.mask.subarray(i * k, (i + 1) * k))),
      columns: FULL_KEYPOINT_SET.columns,
      flipPairs: FULL_KEYPOINT_SET.flipPairs,
      flip,
      affine,
      photometric,
    })) as Record<'flip' | 'affine' | 'photometric', { images: number[][]; targets?: number[][]; mask?: number[][] }>;
    const maxDiff = (a: ArrayLike<number>, b: number[][]) => {
      const flat = b.flat();
      expect(flat).toHaveLength(a.length);
      return flat.reduce((m, v, i) => Math.max(m, Math.abs(v - a[i])), 0);
    };

    const flipped = batch();
    flipSamples(flipped, flip, FULL_KEYPOINT_SET);
    expect(maxDiff(flipped.images, theirs.flip.images)).toBe(0);
    expect(maxDiff(flipped.targets, theirs.flip.targets!)).toBeLessThan(1e-6);
    expect(maxDiff(flipped.mask, theirs.flip.mask!)).toBe(0);

    const moved = batch();
    affine.forEach(([dx, dy, rotationDeg, scale], i) => affineTransformSample(moved, i, { dx, dy, rotationDeg, scale }, FULL_KEYPOINT_SET));
    expect(Array.from(moved.mask.subarray(3 * k, 4 * k))).toContain(0);
    expect(maxDiff(moved.mask, theirs.affine.mask!)).toBe(0);
    expect(maxDiff(moved.targets, theirs.affine.targets!)).toBeLessThan(1e-5);
    expect(maxDiff(moved.images, theirs.affine.images)).toBeLessThan(1e-4);

    const recoloured = batch();
    photometric.forEach(([c, b], i) => photometricSample(recoloured.images.subarray(i * 9216, (i + 1) * 9216), c, b));
    expect(maxDiff(recoloured.images, theirs.photometric.images)).toBeLessThan(1e-5);
  });
});
