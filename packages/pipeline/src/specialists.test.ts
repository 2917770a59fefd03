import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, SPECIALIST_KEYPOINT_SETS, silentLogger } from '@keypoints/core';
import { loadModel } from '@keypoints/models';
import { buildModel, readRunConfig, resolveTrainConfig, trainRun } from './index.js';
import {
  SPECIALIST_NAMES,
  assembleSpecialistsManifest,
  formatSpecialistsSummary,
  resolveSpecialistNames,
  resolveWorkerThreads,
  runPool,
  specialistInput,
  trainSpecialists,
  type SpecialistMessage,
  type SpecialistsManifest,
} from './specialists.js';

const STUB_WORKER = fileURLToPath(new URL('./specialists.test-worker.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Largest absolute difference between two lists of weight arrays. */
function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let max = 0;
  a.forEach((x, i) => x.forEach((v, j) => (max = Math.max(max, Math.abs(v - b[i][j])))));
  return max;
}

/** Most intervals [start, end] open at once. */
function maxOverlap(intervals: Array<[number, number]>): number {
  const points = intervals.flatMap(([s, e]) => [[s, 1] as const, [e, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let max = 0;
  for (const [, d] of points) max = Math.max(max, (open += d));
  return max;
}

describe('runPool', () => {
  it('runs at most `concurrency` tasks at once, in order, and survives a failing task', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const results = await runPool([30, 10, 20, 5, 25, 15, 10], 3, async (ms, i) => {
      started.push(i);
      most = Math.max(most, ++running);
      await sleep(ms);
      running--;
      if (i === 2) throw new Error('task 2 failed');
      return i * 10;
    });
    expect(most).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('task 2 failed');
    expect((results[6] as PromiseFulfilledResult<number>).value).toBe(60);
  });

  it('does not start queued tasks after the signal aborts', async () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const results = await runPool(
      [0, 1, 2, 3],
      1,
      async (i) => {
        ran.push(i);
        if (i === 1) controller.abort();
        return i;
      },
      controller.signal,
    );
    expect(ran).toEqual([0, 1]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected']);
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    await expect(runPool([1], 0, async (x) => x)).rejects.toThrow(ConfigError);
  });
});

describe('resolveWorkerThreads / resolveSpecialistNames', () => {
  it('defaults: min(6, cores, specialists) workers, floor(cores / workers) threads each', () => {
    expect(resolveWorkerThreads({ cores: 2 })).toEqual({ workers: 2, threadsPerWorker: 1 });
    expect(resolveWorkerThreads({ cores: 16 })).toEqual({ workers: 6, threadsPerWorker: 2 });
    expect(resolveWorkerThreads({ cores: 1 })).toEqual({ workers: 1, threadsPerWorker: 1 });
    expect(resolveWorkerThreads({ cores: 8, jobs: 1 })).toEqual({ workers: 1, threadsPerWorker: 8 });
    expect(resolveWorkerThreads({ cores: 8, workers: 3 })).toEqual({ workers: 3, threadsPerWorker: 2 });
  });

  it('rejects workers × threads > cores unless forced, and non-positive values', () => {
    expect(() => resolveWorkerThreads({ cores: 2, workers: 4 })).toThrow(ConfigError);
    expect(() => resolveWorkerThreads({ cores: 2, workers: 2, threadsPerWorker: 2 })).toThrow(
      /--workers 2 × --threads 2 = 4 threads, but this machine has 2 cores; expected workers × threads ≤ 2 .*--force/,
    );
    expect(resolveWorkerThreads({ cores: 2, workers: 2, threadsPerWorker: 2, force: true })).toEqual({ workers: 2, threadsPerWorker: 2 });
    expect(() => resolveWorkerThreads({ cores: 2, workers: 0 })).toThrow(/--workers: expected a positive integer, got 0/);
    expect(() => resolveWorkerThreads({ cores: 2, threadsPerWorker: 1.5 })).toThrow(/--threads: expected a positive integer/);
  });

  it('keeps SPECIALIST_KEYPOINT_SETS order and rejects unknown groups', () => {
    expect(SPECIALIST_NAMES).toEqual(SPECIALIST_KEYPOINT_SETS.map((s) => s.name));
    expect(resolveSpecialistNames(['eyebrows', 'nose_tip'])).toEqual(['nose_tip', 'eyebrows']);
    expect(resolveSpecialistNames()).toHaveLength(6);
    expect(() => resolveSpecialistNames(['nose'])).toThrow(/--only: unknown specialist 'nose'; expected some of eye_center, nose_tip/);
    expect(() => resolveSpecialistNames([])).toThrow(ConfigError);
  });
});

describe('specialistInput', () => {
  it("inherits the pretrained run's recipe but not its time budget; maxTime comes from the specialists' options", () => {
    const parsed = resolveTrainConfig({ model: 'recommended', name: 'rec-15', maxTime: 15, epochs: 200, threads: 2, out: 'runs/rec-15' });
    if (!parsed.success) throw parsed.error;
    const pretrained = { dir: '/runs/rec-15', config: parsed.data };
    const plain = specialistInput('nose_tip', pretrained, { out: '/runs/spec', threads: 1 });
    expect(plain).toMatchObject({ model: 'conv4', keypoints: 'nose_tip', pretrained: '/runs/rec-15', optimizer: 'adamw', loss: 'wing', threads: 1, out: join('/runs/spec', 'nose_tip') });
    expect(plain).not.toHaveProperty('maxTime');
    expect(plain).not.toHaveProperty('epochs');
    expect(specialistInput('nose_tip', pretrained, { out: '/runs/spec', threads: 1, maxTime: 2.5, epochs: 40 })).toMatchObject({ maxTime: 2.5, epochs: 40 });
  });
});

/** A folder that passes for a finished run (config.json + model/model.json); nothing loads the model. */
async function fakePretrained(dir: string): Promise<string> {
  const run = join(dir, 'net2');
  await mkdir(join(run, 'model'), { recursive: true });
  await writeFile(join(run, 'config.json'), JSON.stringify({ model: 'net2', name: 'net2', epochs: 1, batchSize: 64, maxRows: 200, flip: true }));
  await writeFile(join(run, 'model', 'model.json'), '{}');
  return run;
}

describe('trainSpecialists: worker processes (stub worker)', () => {
  it('forks one process per specialist, at most `workers` at a time; a crashing one does not stop the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-spec-pool-'));
    const pretrained = await fakePretrained(dir);
    const stubLog = join(dir, 'stub.jsonl');
    const messages: SpecialistMessage[] = [];
    const out = join(dir, 'specialists');
    const { manifest, manifestPath, failed } = await trainSpecialists({
      pretrained,
      out,
      workers: 2,
      threadsPerWorker: 1,
      cores: 2,
      epochs: 7,
      progress: false,
      onMessage: (m) => messages.push(m),
      worker: { module: STUB_WORKER, env: { STUB_LOG: stubLog, STUB_CRASH: 'nose_tip', STUB_DELAY_MS: '250' } },
    });

    // Scheduling: six processes, never more than two alive at once.
    const lines = (await readFile(stubLog, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const span = new Map<string, [number, number]>();
    for (const l of lines) {
      const s = span.get(l.name) ?? [0, 0];
      s[l.event === 'start' ? 0 : 1] = l.t;
      span.set(l.name, s);
    }
    expect([...span.keys()].sort()).toEqual([...SPECIALIST_NAMES].sort());
    expect(maxOverlap([...span.values()])).toBe(2);

    // Each worker got the pretrained run's settings, its group, the threads and its run dir.
    const input = lines.find((l) => l.name === 'eyebrows' && l.event === 'start').input;
    expect(input).toMatchObject({ model: 'net2', keypoints: 'eyebrows', pretrained, threads: 1, epochs: 7, batchSize: 64, maxRows: 200, flip: true, out: join(out, 'eyebrows') });
    expect(input.patience).toBeUndefined(); // trainRun's specialist default (200)

    // The crash is reported; the other five completed.
    expect(failed).toEqual(['nose_tip']);
    const nose = manifest.specialists.find((s) => s.name === 'nose_tip')!;
    expect(nose.status).toBe('failed');
    expect(nose.epochs).toBe(1);
    expect(nose.error).toMatch(/worker exited with code 3: .*stub: nose_tip crashes/);
    expect(nose.error).toContain(join(out, 'nose_tip', 'worker.log'));
    expect(await readFile(join(out, 'nose_tip', 'worker.log'), 'utf8')).toContain('stub: nose_tip crashes');
    expect(manifest.specialists.filter((s) => s.status === 'completed')).toHaveLength(5);
    expect(messages.filter((m) => m.type === 'epoch')).toHaveLength(11);

    // The manifest on disk, in SPECIALIST_KEYPOINT_SETS order.
    const saved = JSON.parse(await readFile(manifestPath, 'utf8')) as SpecialistsManifest;
    expect(saved).toEqual(manifest);
    expect(saved.specialists.map((s) => s.name)).toEqual(SPECIALIST_NAMES);
    expect(saved.specialists[0]).toEqual({
      name: 'eye_center',
      runDir: 'eye_center',
      columns: ['left_eye_center_x', 'left_eye_center_y', 'right_eye_center_x', 'right_eye_center_y'],
      status: 'completed',
      epochs: 2,
      bestValidRmsePx: 3,
      trainSeconds: 0.6,
    });
    expect(saved).toMatchObject({ kind: 'specialists', pretrained, workers: 2, threadsPerWorker: 1 });
    // 5 × 0.6 s of stub "training" + the crashed one's process time.
    expect(saved.sequentialSeconds).toBeGreaterThan(3);
    expect(saved.wallSeconds).toBeGreaterThan(0);
    expect(formatSpecialistsSummary(saved)).toMatch(/wall time [\d.]+ s with 2 workers × 1 thread; sequential \(sum of train times\) [\d.]+ s/);
  });

  it('cancels: the running worker ends as cancelled, queued ones never start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-spec-cancel-'));
    const pretrained = await fakePretrained(dir);
    const controller = new AbortController();
    const stubLog = join(dir, 'stub.jsonl');
    const { manifest, failed } = await trainSpecialists({
      pretrained,
      out: join(dir, 'specialists'),
      only: ['eye_center', 'nose_tip', 'eyebrows'],
      workers: 1,
      cores: 2,
      progress: false,
      signal: controller.signal,
      onMessage: (m) => m.type === 'start' && controller.abort(),
      worker: { module: STUB_WORKER, env: { STUB_LOG: stubLog, STUB_DELAY_MS: '2000' } },
    });
    expect(failed).toEqual(['eye_center', 'nose_tip', 'eyebrows']);
    expect(manifest.specialists.map((s) => [s.name, s.status, s.stopReason])).toEqual([
      ['eye_center', 'cancelled', 'cancelled by train-specialists'],
      ['nose_tip', 'cancelled', 'cancelled before it started'],
      ['eyebrows', 'cancelled', 'cancelled before it started'],
    ]);
    expect((await readFile(stubLog, 'utf8')).trim().split('\n')).toHaveLength(2); // eye_center's start and end only
  });

  it('checks its options before forking anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kp-spec-opts-'));
    const pretrained = await fakePretrained(dir);
    await expect(trainSpecialists({ pretrained, cores: 2, workers: 3, progress: false })).rejects.toThrow(ConfigError);
    await expect(trainSpecialists({ pretrained, only: ['mouth'], progress: false })).rejects.toThrow(/unknown specialist 'mouth'/);
    await expect(trainSpecialists({ pretrained: join(dir, 'nope'), progress: false })).rejects.toThrow(/not a run directory/);
    await mkdir(join(dir, 'unfinished'));
    await writeFile(join(dir, 'unfinished', 'config.json'), JSON.stringify({ model: 'net2', epochs: 1 }));
    await expect(trainSpecialists({ pretrained: join(dir, 'unfinished'), progress: false })).rejects.toThrow(/no model\/model\.json/);
  });
});

describe('trainSpecialists end to end (wasm, real worker processes)', () => {
  it('trains two specialists in parallel from a tiny net2, each starting from its weights', { timeout: 300_000 }, async () => {
    const t0 = performance.now();
    const dir = await mkdtemp(join(tmpdir(), 'kp-spec-e2e-'));
    // The pretrained full net: net2, 1 epoch on 200 rows of the embedded sample.
    const { runDir: pretrained } = await trainRun(
      { model: 'net2', maxRows: 200, batchSize: 64, epochs: 1, backend: 'wasm', out: join(dir, 'net2') },
      { progress: false, logger: silentLogger },
    );
    // The specialists inherit its learning rate: a negligible one keeps their conv and dense weights
    // where the pretrained model left them, so "initialised from it" can be checked exactly.
    const cfgFile = join(pretrained, 'config.json');
    await writeFile(cfgFile, JSON.stringify({ ...JSON.parse(await readFile(cfgFile, 'utf8')), learningRate: 1e-12 }));

    const tPretrained = performance.now();
    const out = join(dir, 'specialists');
    const messages: SpecialistMessage[] = [];
    const { manifest, manifestPath, failed } = await trainSpecialists({
      pretrained,
      out,
      only: ['nose_tip', 'mouth_bottom_lip'],
      epochs: 2,
      workers: 2,
      threadsPerWorker: 1,
      cores: 2,
      backend: 'wasm',
      progress: false,
      onMessage: (m) => messages.push(m),
    });
    expect(failed).toEqual([]);
    console.log(`e2e: pretrained net2 ${((tPretrained - t0) / 1000).toFixed(1)} s; specialists ${((performance.now() - tPretrained) / 1000).toFixed(1)} s; manifest wall ${manifest.wallSeconds} s, sequential ${manifest.sequentialSeconds} s`);
    const saved = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(Object.keys(saved)).toEqual(['kind', 'pretrained', 'workers', 'threadsPerWorker', 'wallSeconds', 'sequentialSeconds', 'specialists']);
    expect(saved).toMatchObject({ kind: 'specialists', pretrained, workers: 2, threadsPerWorker: 1 });
    expect(saved.specialists.map((s: { name: string }) => s.name)).toEqual(['nose_tip', 'mouth_bottom_lip']);
    for (const s of saved.specialists) {
      expect(Object.keys(s)).toEqual(['name', 'runDir', 'columns', 'status', 'epochs', 'bestValidRmsePx', 'trainSeconds']);
      expect(s).toMatchObject({ runDir: s.name, status: 'completed', epochs: 2 });
      expect(s.columns).toEqual(SPECIALIST_KEYPOINT_SETS.find((k) => k.name === s.name)!.columns);
      expect(s.bestValidRmsePx).toBeGreaterThan(0);
      expect(s.trainSeconds).toBeGreaterThan(0);
    }
    expect(saved.sequentialSeconds).toBeCloseTo(saved.specialists[0].trainSeconds + saved.specialists[1].trainSeconds, 5);
    expect(manifest.wallSeconds).toBe(saved.wallSeconds);
    expect(messages.filter((m) => m.type === 'epoch').map((m) => `${m.name}:${(m as { epoch: number }).epoch}`).sort()).toEqual([
      'mouth_bottom_lip:1',
      'mouth_bottom_lip:2',
      'nose_tip:1',
      'nose_tip:2',
    ]);

    const full = await loadModel(join(pretrained, 'model'));
    for (const s of saved.specialists) {
      const runDir = join(out, s.runDir);
      for (const f of ['config.json', 'history.json', 'metrics.json', 'model/model.json', 'model/weights.bin', 'checkpoints/last']) {
        expect(existsSync(join(runDir, f)), `${s.name}/${f}`).toBe(true);
      }
      const config = await readRunConfig(runDir);
      expect(config).toMatchObject({ model: 'net2', keypoints: s.name, pretrained, threads: 1, epochs: 2, maxRows: 200, batchSize: 64 });
      const metrics = JSON.parse(await readFile(join(runDir, 'metrics.json'), 'utf8'));
      expect(metrics.bestValidRmsePx).toBe(s.bestValidRmsePx);

      // Every weighted layer but the output equals the pretrained model's; a fresh net (same seed)
      // differs, so the weights came from the pretrained run, not from the initialiser.
      const specialist = await loadModel(join(runDir, 'model'));
      const fresh = buildModel(config);
      let compared = 0;
      for (const layer of specialist.layers) {
        if (layer.name === 'output' || layer.getWeights().length === 0) continue;
        const ws = layer.getWeights().map((w) => w.dataSync() as Float32Array);
        const wp = full.getLayer(layer.name).getWeights().map((w) => w.dataSync() as Float32Array);
        const wf = fresh.getLayer(layer.name).getWeights().map((w) => w.dataSync() as Float32Array);
        expect(maxDiff(ws, wp), layer.name).toBeLessThan(1e-6);
        if (layer.name.startsWith('conv')) expect(maxDiff(wf, wp), layer.name).toBeGreaterThan(1e-5);
        compared++;
      }
      expect(compared).toBeGreaterThanOrEqual(5); // 3 conv + 2 hidden dense
      expect(specialist.outputs[0].shape).toEqual([null, s.columns.length]);
      specialist.dispose();
      fresh.dispose();
    }
    full.dispose();

    // The same folder assembled from its run directories (the path of the six nx targets).
    const { manifest: assembled } = await assembleSpecialistsManifest({ pretrained, out });
    expect(assembled.assembled).toBe(true);
    expect(assembled.specialists.map((s) => [s.name, s.status, s.epochs, s.bestValidRmsePx])).toEqual(
      saved.specialists.map((s: { name: string; bestValidRmsePx: number }) => [s.name, 'completed', 2, s.bestValidRmsePx]),
    );
  });
});
