import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelIOError, isKeypointsError } from '@keypoints/core';
import { MODEL_JSON, WEIGHTS_BIN, buildFullyConnected, loadModel, saveModel } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'keypoints-model-io-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function freshDir(): string {
  return join(root, `case-${++counter}`, 'model');
}

async function ioError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelIOError);
  expect(isKeypointsError(error, 'MODEL_IO')).toBe(true);
  return (error as Error).message;
}

/** Bit-for-bit equality of two float arrays (fast for a million values). */
function sameBits(a: tf.TypedArray, b: tf.TypedArray): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function predict(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

describe('saveModel / loadModel', () => {
  it('round-trips net1: identical weights and predictions on cpu', async () => {
    const dir = freshDir();
    const model = buildFullyConnected({ seed: 5 });
    // non-zero biases, so the round-trip is not trivially right
    model.layers[2].setWeights([model.layers[2].getWeights()[0], tf.fill([30], 0.25)]);
    const info = await saveModel(model, dir);
    expect(info.dir).toBe(dir);
    expect(info.modelJsonPath).toBe(join(dir, MODEL_JSON));
    expect(info.weightsPath).toBe(join(dir, WEIGHTS_BIN));
    expect(info.weightBytes).toBe(924_730 * 4);
    expect(statSync(info.weightsPath).size).toBe(924_730 * 4);
    expect(readdirSync(dir).sort()).toEqual([MODEL_JSON, WEIGHTS_BIN]);

    const json = JSON.parse(readFileSync(info.modelJsonPath, 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.generatedBy).toMatch(/TensorFlow\.js tfjs-layers v4\.22\.0/);
    expect(json.weightsManifest).toEqual([
      {
        paths: ['weights.bin'],
        weights: [
          { name: 'hidden1/kernel', shape: [9216, 100], dtype: 'float32' },
          { name: 'hidden1/bias', shape: [100], dtype: 'float32' },
          { name: 'output/kernel', shape: [100, 30], dtype: 'float32' },
          { name: 'output/bias', shape: [30], dtype: 'float32' },
        ],
      },
    ]);

    const loaded = await loadModel(dir);
    expect(loaded.name).toBe('net1');
    expect(loaded.countParams()).toBe(model.countParams());
    const x = tf.randomUniform([4, 96, 96, 1], 0, 1, 'float32', 11);
    expect(predict(loaded, x)).toEqual(predict(model, x));
    const [a, b] = [model.getWeights(), loaded.getWeights()];
    expect(b).toHaveLength(4);
    for (let i = 0; i < a.length; i++) expect(sameBits(b[i].dataSync(), a[i].dataSync())).toBe(true);
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });

  it('replaces a previous model in place and leaves no temporary folders', async () => {
    const dir = freshDir();
    const first = buildFullyConnected({ hidden: 4, seed: 1 });
    const second = buildFullyConnected({ hidden: 4, seed: 2 });
    await saveModel(first, dir);
    await saveModel(second, dir);
    const loaded = await loadModel(dir);
    expect(sameBits(loaded.getWeights()[0].dataSync(), second.getWeights()[0].dataSync())).toBe(true);
    expect(readdirSync(join(dir, '..'))).toEqual(['model']);
    for (const m of [first, second, loaded]) m.dispose();
  });

  it('a save that fails midway leaves the previous model intact', async () => {
    const dir = freshDir();
    const model = buildFullyConnected({ hidden: 4, seed: 3 });
    await saveModel(model, dir);
    const before = readFileSync(join(dir, WEIGHTS_BIN));
    // a model whose topology cannot be serialised: weights.bin is written, model.json fails
    const broken = {
      save: (handler: tf.io.IOHandler) =>
        handler.save!({
          modelTopology: { bad: BigInt(1) } as unknown as tf.io.ModelJSON['modelTopology'],
          weightSpecs: [{ name: 'w', shape: [2], dtype: 'float32' }],
          weightData: new Float32Array([1, 2]).buffer,
        }),
    } as unknown as tf.LayersModel;
    const message = await ioError(saveModel(broken, dir));
    expect(message).toContain(`cannot save model to ${dir}:`);
    expect(readFileSync(join(dir, WEIGHTS_BIN)).equals(before)).toBe(true);
    expect(readdirSync(join(dir, '..'))).toEqual(['model']);
    const loaded = await loadModel(dir);
    expect(sameBits(loaded.getWeights()[0].dataSync(), model.getWeights()[0].dataSync())).toBe(true);
    model.dispose();
    loaded.dispose();
  });

  it('can include the optimizer state (includeOptimizer)', async () => {
    const dir = freshDir();
    const model = buildFullyConnected({ hidden: 2, outputs: 2, seed: 1 });
    model.compile({ optimizer: tf.train.momentum(0.01, 0.9, true), loss: 'meanSquaredError' });
    const x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 1);
    const y = tf.zeros([2, 2]);
    await model.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
    const info = await saveModel(model, dir, { includeOptimizer: true });
    const json = JSON.parse(readFileSync(info.modelJsonPath, 'utf8'));
    const names: string[] = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    expect(names.length).toBeGreaterThan(4);
    expect(json.trainingConfig.loss).toBe('mean_squared_error');
    const loaded = await loadModel(dir);
    expect(loaded.optimizer).toBeDefined();
    const [saved, restored] = [await model.optimizer.getWeights(), await loaded.optimizer.getWeights()];
    expect(restored.map((w) => w.name)).toEqual(saved.map((w) => w.name));
    expect(restored.length).toBeGreaterThan(0);
    restored.forEach((w, i) => expect(w.tensor.dataSync()).toEqual(saved[i].tensor.dataSync()));
    expect(predict(loaded, x)).toEqual(predict(model, x));
    tf.dispose([x, y]);
    model.dispose();
    loaded.dispose();
  });

  it('creates missing parent folders', async () => {
    const dir = join(root, 'deep', 'er', 'model');
    const model = buildFullyConnected({ hidden: 2, seed: 1 });
    await saveModel(model, dir);
    expect(existsSync(join(dir, MODEL_JSON))).toBe(true);
    model.dispose();
  });

  it('refuses to replace a folder that holds other files, or a file', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{}');
    const model = buildFullyConnected({ hidden: 2, seed: 1 });
    expect(await ioError(saveModel(model, dir))).toContain(
      `cannot save model to ${dir}: the folder holds files that are not part of a model (config.json)`,
    );
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
    const file = join(dir, 'config.json');
    expect(await ioError(saveModel(model, file))).toBe(`cannot save model to ${file}: it exists and is not a folder`);
    model.dispose();
  });

  describe('load errors name the path and the problem', () => {
    let dir: string;
    beforeAll(async () => {
      dir = freshDir();
      const model = buildFullyConnected({ hidden: 3, outputs: 2, seed: 1 });
      await saveModel(model, dir);
      model.dispose();
    });

    function copyOf(): string {
      const copy = freshDir();
      mkdirSync(copy, { recursive: true });
      for (const name of [MODEL_JSON, WEIGHTS_BIN]) writeFileSync(join(copy, name), readFileSync(join(dir, name)));
      return copy;
    }

    it('missing folder', async () => {
      const missing = join(root, 'nope', 'model');
      expect(await ioError(loadModel(missing))).toBe(`model folder not found: ${missing}`);
    });

    it('missing folder after an interrupted save points at the previous model', async () => {
      const copy = copyOf();
      const old = join(copy, '..', '.model.old-123-abcd');
      rmSync(old, { recursive: true, force: true });
      const { renameSync } = await import('node:fs');
      renameSync(copy, old);
      expect(await ioError(loadModel(copy))).toBe(
        `model folder not found: ${copy} (a save was interrupted; the previous model is in ${old} — rename it to model)`,
      );
    });

    it('a file instead of a folder', async () => {
      const file = join(dir, WEIGHTS_BIN);
      expect(await ioError(loadModel(file))).toBe(`not a model folder (a file): ${file}`);
    });

    it('missing model.json', async () => {
      const copy = copyOf();
      rmSync(join(copy, MODEL_JSON));
      expect(await ioError(loadModel(copy))).toBe(`missing model.json in ${copy} (not a saved model folder?)`);
    });

    it('corrupt JSON', async () => {
      const copy = copyOf();
      writeFileSync(join(copy, MODEL_JSON), '{"modelTopology": {');
      const message = await ioError(loadModel(copy));
      expect(message).toMatch(new RegExp(`^${escape(join(copy, MODEL_JSON))}: corrupt JSON \\(.+\\)$`));
    });

    it('JSON that is not a layers model', async () => {
      const copy = copyOf();
      writeFileSync(join(copy, MODEL_JSON), '{"hello": 1}');
      expect(await ioError(loadModel(copy))).toBe(
        `${join(copy, MODEL_JSON)}: no 'modelTopology' object; not a TensorFlow.js layers model`,
      );
      const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8'));
      delete json.weightsManifest;
      writeFileSync(join(copy, MODEL_JSON), JSON.stringify(json));
      expect(await ioError(loadModel(copy))).toBe(
        `${join(copy, MODEL_JSON)}: no valid 'weightsManifest' (an array of { paths, weights })`,
      );
    });

    it('missing weights.bin', async () => {
      const copy = copyOf();
      rmSync(join(copy, WEIGHTS_BIN));
      expect(await ioError(loadModel(copy))).toBe(
        `missing weight file ${join(copy, WEIGHTS_BIN)} (named in ${join(copy, MODEL_JSON)})`,
      );
    });

    it('weights size mismatch', async () => {
      const copy = copyOf();
      const bytes = (9216 * 3 + 3 + 3 * 2 + 2) * 4;
      truncateSync(join(copy, WEIGHTS_BIN), bytes - 8);
      expect(await ioError(loadModel(copy))).toBe(
        `weights size mismatch: ${join(copy, WEIGHTS_BIN)} holds ${bytes - 8} bytes, but ${join(copy, MODEL_JSON)} ` +
          `describes 4 weights of ${bytes} bytes (truncated or from another model?)`,
      );
    });

    it('a weight path outside the folder', async () => {
      const copy = copyOf();
      const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8'));
      json.weightsManifest[0].paths = ['../../secret.bin'];
      writeFileSync(join(copy, MODEL_JSON), JSON.stringify(json));
      expect(await ioError(loadModel(copy))).toBe(
        `${join(copy, MODEL_JSON)}: weight path '../../secret.bin' points outside ${copy}`,
      );
    });

    it('a topology tfjs cannot build', async () => {
      const copy = copyOf();
      const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8'));
      json.modelTopology.config.layers[1].class_name = 'NoSuchLayer';
      writeFileSync(join(copy, MODEL_JSON), JSON.stringify(json));
      const message = await ioError(loadModel(copy));
      expect(message).toContain(`cannot build the model in ${copy}: `);
      expect(message).toContain('NoSuchLayer');
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
