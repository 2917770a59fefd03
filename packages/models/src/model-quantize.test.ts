import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_JSON, WEIGHTS_BIN, buildCnn, loadModel, saveModel } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'kp-quantize-'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('saveModel({ quantize: "uint8" })', () => {
  it('stores a quarter of the bytes, every weight within scale/2 of the original, and loads with stock tfjs too', async () => {
    const model = buildCnn({ seed: 3, dense: [64, 64], outputs: 30 });
    const exact = await saveModel(model, join(dir, 'float32'));
    const small = await saveModel(model, join(dir, 'uint8'), { quantize: 'uint8' });
    expect(small.weightBytes).toBe(exact.weightBytes / 4);
    expect(statSync(join(dir, 'uint8', WEIGHTS_BIN)).size).toBe(small.weightBytes);

    const manifest = JSON.parse(readFileSync(join(dir, 'uint8', MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
    const specs = manifest.weightsManifest[0]!.weights;
    expect(specs.every((s) => s.dtype === 'float32' && s.quantization?.dtype === 'uint8')).toBe(true);

    const loaded = await loadModel(join(dir, 'uint8'));
    model.weights.forEach((w, i) => {
      const original = w.read().dataSync();
      const restored = loaded.weights[i]!.read().dataSync();
      const { scale } = specs[i]!.quantization as { scale: number };
      let worst = 0;
      for (let j = 0; j < original.length; j++) worst = Math.max(worst, Math.abs(original[j]! - restored[j]!));
      expect(worst, w.name).toBeLessThanOrEqual(scale / 2 + 1e-6);
    });

    // Stock tfjs (no @keypoints code) dequantizes the same artifacts to the same values.
    const stock = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: manifest.modelTopology,
        weightSpecs: specs,
        weightData: new Uint8Array(readFileSync(join(dir, 'uint8', WEIGHTS_BIN))).buffer,
      }),
    );
    const x = tf.randomUniform([2, 96, 96, 1], 0, 1, 'float32', 5);
    const a = (loaded.predict(x) as tf.Tensor).dataSync();
    const b = (stock.predict(x) as tf.Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    for (const m of [model, loaded, stock]) m.dispose();
    x.dispose();
  });
});
