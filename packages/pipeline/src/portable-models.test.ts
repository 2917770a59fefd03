/**
 * Portable models (issue 12): every preset's saved `model/` loads with stock TensorFlow.js
 * (`tf.loadLayersModel(tf.io.fromMemory(…))` from the files' bytes, no `@keypoints` import) and
 * predicts what `loadModel` and the original model (inference mode) predict.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPECIALIST_KEYPOINT_SETS } from '@keypoints/core';
import { KeypointsDropout, MODEL_JSON, loadModel, saveModel } from '@keypoints/models';
import { MODEL_PRESET_NAMES, buildModel, resolveTrainConfig, type TrainConfigInput } from './index.js';

const run = promisify(execFile);
const TOLERANCE = 1e-5;

/**
 * Runs in a separate Node process that imports `@tensorflow/tfjs` and nothing else (so no
 * `@keypoints` class is registered): loads each model folder from its files' bytes with
 * `tf.io.fromMemory` and predicts the images in `x.bin` (float32 `[N, 96, 96, 1]`).
 * Prints `{ registered, results: { [dir]: { classes, y } | { error } } }` as JSON.
 */
const STOCK_TFJS_SCRIPT = `
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
await tf.setBackend('cpu');
const [xPath, ...dirs] = process.argv.slice(1);
const xBytes = readFileSync(xPath);
const xData = new Float32Array(xBytes.buffer.slice(xBytes.byteOffset, xBytes.byteOffset + xBytes.byteLength));
const x = tf.tensor4d(xData, [xData.length / 9216, 96, 96, 1]);
const results = {};
for (const dir of dirs) {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const chunks = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const weightData = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) { weightData.set(c, at); at += c.byteLength; }
  try {
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weightData.buffer,
    }));
    const y = model.predict(x);
    results[dir] = { classes: model.layers.map((l) => l.getClassName()), y: Array.from(y.dataSync()) };
    y.dispose();
    model.dispose();
  } catch (error) {
    results[dir] = { error: error.message };
  }
}
const registered = Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
process.stdout.write('\\n@@' + JSON.stringify({ registered, results }));
`;

interface StockResult {
  readonly classes?: string[];
  readonly y?: number[];
  readonly error?: string;
}

/** Load and predict every folder in a process with stock tfjs only (see {@link STOCK_TFJS_SCRIPT}). */
async function predictWithStockTfjs(xPath: string, dirs: readonly string[]): Promise<{ registered: string[]; results: Record<string, StockResult> }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', STOCK_TFJS_SCRIPT, xPath, ...dirs], {
    // Resolve `@tensorflow/tfjs` from this package (the workspace's node_modules).
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    maxBuffer: 64 * 2 ** 20,
    timeout: 300_000,
  });
  return JSON.parse(stdout.slice(stdout.lastIndexOf('\n@@') + 3));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function configOf(input: TrainConfigInput) {
  const parsed = resolveTrainConfig({ seed: 1, ...input });
  if (!parsed.success) throw parsed.error;
  return parsed.data;
}

/** What each saved model predicted in this process: the original (inference), loadModel, stock fromMemory. */
interface Case {
  readonly name: string;
  readonly dir: string;
  readonly original: Float32Array;
  readonly hadKeypointsDropout: boolean;
}

describe('portable models: every preset loads with stock tfjs (no @keypoints import)', () => {
  let root: string;
  let x: tf.Tensor4D;
  let xPath: string;
  const cases: Case[] = [];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    root = await mkdtemp(join(tmpdir(), 'kp-portable-'));
    x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 12) as tf.Tensor4D;
    xPath = join(root, 'x.bin');
    await writeFile(xPath, new Uint8Array((await x.data()).buffer));
  });

  afterAll(async () => {
    x?.dispose();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('saves net1 … net8, conv4, conv4bn, conv4x2 and a net6-pretrained specialist with standard classes only; loadModel and tf.io.fromMemory predict what the model predicts', async () => {
    expect(MODEL_PRESET_NAMES).toEqual(['net1', 'net2', 'net3', 'net4', 'net5', 'net6', 'net7', 'net8', 'conv4', 'conv4bn', 'conv4x2']);
    const save = async (name: string, model: tf.LayersModel): Promise<void> => {
      const dir = join(root, name, 'model');
      await saveModel(model, dir);
      const text = await readFile(join(dir, MODEL_JSON), 'utf8');
      expect(text, name).not.toContain('KeypointsDropout');
      const json = JSON.parse(text) as tf.io.ModelJSON;
      const original = predict(model, x);
      // tf.io.fromMemory from the files' bytes, in this process.
      const weights = await readFile(join(dir, json.weightsManifest[0].paths[0]));
      const fromMemory = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
          weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
        }),
      );
      const loaded = await loadModel(dir);
      expect(maxAbsDiff(predict(fromMemory, x), original), `${name}: fromMemory vs original`).toBeLessThanOrEqual(TOLERANCE);
      expect(maxAbsDiff(predict(loaded, x), original), `${name}: loadModel vs original`).toBeLessThanOrEqual(TOLERANCE);
      expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      const hadKeypointsDropout = model.layers.some((l) => l instanceof KeypointsDropout);
      if (hadKeypointsDropout) {
        // Dropout as the standard class: same names and rates.
        const dropouts = (m: tf.LayersModel, cls: string) => m.layers.filter((l) => l.getClassName() === cls).map((l) => [l.name, l.getConfig().rate]);
        expect(dropouts(loaded, 'Dropout'), name).toEqual(dropouts(model, 'KeypointsDropout'));
      }
      fromMemory.dispose();
      loaded.dispose();
      cases.push({ name, dir, original, hadKeypointsDropout });
    };

    for (const preset of MODEL_PRESET_NAMES) {
      const model = buildModel(configOf({ model: preset }));
      await save(preset, model);
      model.dispose();
    }
    // A specialist pre-trained from the portable net6 (`--pretrained runs/net6`): the weights copy
    // from stock Dropout layers' model into a freshly built one with seeded KeypointsDropout.
    const net6 = await loadModel(join(root, 'net6', 'model'));
    const set = SPECIALIST_KEYPOINT_SETS[0];
    const specialist = buildModel(configOf({ model: 'net6', keypoints: set.name }), net6);
    expect(specialist.layers.filter((l) => l instanceof KeypointsDropout).map((l) => (l as KeypointsDropout).seed)).toEqual([1, 1, 1, 1]);
    const conv1 = (m: tf.LayersModel) => m.getLayer('conv1').getWeights()[0].dataSync();
    expect(Array.from(conv1(specialist))).toEqual(Array.from(conv1(net6)));
    net6.dispose();
    await save(`net6-${set.name}`, specialist);
    expect(cases.at(-1)!.original.length).toBe(2 * set.columns.length);
    specialist.dispose();

    expect(cases.filter((c) => c.hadKeypointsDropout).map((c) => c.name)).toEqual(['net6', 'net7', 'net8', `net6-${set.name}`]);
  }, 300_000);

  it('a process with only @tensorflow/tfjs loads every saved model (tf.io.fromMemory from the bytes) and predicts the same to 1e-5; a non-portable save fails there with Unknown layer', async () => {
    expect(cases).toHaveLength(12);
    // The control: a checkpoint-style save keeps KeypointsDropout, which stock tfjs cannot read.
    const six = cases.find((c) => c.name === 'net6')!;
    const reloaded = await loadModel(six.dir);
    expect(reloaded.layers.some((l) => l.getClassName() === 'Dropout')).toBe(true);
    const model = buildModel(configOf({ model: 'net6', dense: [4, 4] }));
    const nonPortable = join(root, 'non-portable', 'model');
    await saveModel(model, nonPortable, { portable: false });
    expect(await readFile(join(nonPortable, MODEL_JSON), 'utf8')).toContain('"class_name":"KeypointsDropout"');
    model.dispose();
    reloaded.dispose();

    const { registered, results } = await predictWithStockTfjs(xPath, [...cases.map((c) => c.dir), nonPortable]);
    expect(registered).not.toContain('KeypointsDropout');
    for (const c of cases) {
      const r = results[c.dir];
      expect(r.error, c.name).toBeUndefined();
      expect(maxAbsDiff(r.y!, c.original), `${c.name}: stock tfjs vs original`).toBeLessThanOrEqual(TOLERANCE);
      if (c.hadKeypointsDropout) expect(r.classes, c.name).toContain('Dropout');
      for (const cls of r.classes!) expect(registered, `${c.name}: ${cls}`).toContain(cls);
    }
    expect(results[nonPortable].error).toMatch(/Unknown layer: KeypointsDropout/);
  }, 300_000);
});
