import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_KEYPOINT_SET, IMAGE_PIXELS, silentLogger } from '@keypoints/core';
import { flipSamples } from '@keypoints/data';
import { buildConvNet, saveModel } from '@keypoints/models';
import { TrainConfigSchema } from '@keypoints/pipeline';
import { loadPredictor } from './index.js';

/** The mirror of `count` faces and of their `[count, 30]` keypoints (the training flip). */
function mirror(images: Float32Array, keypoints: Float32Array, count: number) {
  const batch = { size: count, images: images.slice(), targets: keypoints.slice(), mask: new Float32Array(keypoints.length).fill(1) };
  flipSamples(batch, [...Array(count).keys()], FULL_KEYPOINT_SET);
  return batch;
}

describe('test-time flip averaging (loadPredictor flipTta)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-tta-'));
    // An untrained, asymmetric net: its predictions on a face and on its mirror do not mirror each other.
    await saveModel(buildConvNet({ filters: [4, 4], dense: 8, seed: 3 }), join(dir, 'model'));
    await writeFile(join(dir, 'config.json'), JSON.stringify(TrainConfigSchema.parse({ model: 'conv4', convNet: { filters: [4, 4], dense: 8 }, epochs: 1, backend: 'wasm' })));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes the prediction mirror-equivariant: predicting the mirrored face gives the mirrored keypoints; it is the mean of the two passes', async () => {
    const count = 3;
    const images = Float32Array.from({ length: count * IMAGE_PIXELS }, (_, i) => ((i * 7919) % 1000) / 1000);
    const plain = await loadPredictor(dir, { logger: silentLogger });
    const tta = await loadPredictor(dir, { logger: silentLogger, flipTta: true });
    const p = plain.predict(images, count);
    const flippedPlain = mirror(images, new Float32Array(count * 30), count).images;
    const q = tta.predict(images, count);
    // Equivariance: TTA(mirror(x)) = mirror(TTA(x)) (to float rounding); the plain net is not.
    const m = mirror(images, q, count);
    const onMirrored = tta.predict(m.images, count);
    const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number))));
    expect(maxDiff(onMirrored, m.targets)).toBeLessThan(1e-5);
    const plainMirror = mirror(images, p, count);
    expect(maxDiff(plain.predict(flippedPlain, count), plainMirror.targets)).toBeGreaterThan(1e-3);
    // The mean of the plain prediction and the mirrored pass mapped back.
    const back = mirror(flippedPlain, plain.predict(flippedPlain, count), count).targets;
    expect(maxDiff(q, p.map((v, i) => (v + (back[i] as number)) / 2))).toBeLessThan(1e-6);
    plain.dispose();
    tta.dispose();
  });
});
