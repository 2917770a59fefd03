import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FULL_KEYPOINT_SET,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
  KAGGLE_KEYPOINTS,
  SPECIALIST_KEYPOINT_SETS,
  isKeypointsError,
  rmsePixelsFromMse,
  silentLogger,
  toPixels,
} from '@keypoints/core';
import { KAGGLE_TEST_IMAGES, makeKaggleTestSet, readKaggleCsv, writeKaggleCsv, type ConvertedLandmarks } from '@keypoints/data';
import { buildCnn, buildFullyConnected, saveModel } from '@keypoints/models';
import { evaluateRun, loadPredictor, readLookupTable, writeSubmission } from '@keypoints/inference';
import { DEFAULT_TRAINING_DATA, TrainConfigSchema, loadRunData, readRunConfig } from '@keypoints/pipeline';
import { sharedData } from '@keypoints/test-support';
import { buildProgram } from './main.js';

/** The real IdLookupTable.csv, SampleSubmission.csv and YouTube-Faces set (`shared/data`, see `@keypoints/test-support`). */
const shared = sharedData({
  files: ['kaggle/IdLookupTable.csv', 'kaggle/SampleSubmission.csv', 'youtube_faces_p1/training_frames_keypoints.csv', 'youtube_faces_p1/test_frames_keypoints.csv'],
});
const LOOKUP = shared.path('kaggle', 'IdLookupTable.csv');
const SAMPLE_SUBMISSION = shared.path('kaggle', 'SampleSubmission.csv');

const BACKEND = 'wasm'; // as the other cli tests (faster than cpu here, even on 2 busy cores)

/** Save `model` as a run directory with a config.json written through the schema (`extra` may add `keypoints`…). */
async function saveRun(dir: string, model: tf.LayersModel, config: Record<string, unknown>): Promise<string> {
  await saveModel(model, join(dir, 'model'));
  model.dispose();
  await writeFile(join(dir, 'config.json'), JSON.stringify(TrainConfigSchema.parse({ epochs: 1, backend: BACKEND, ...config }), null, 2));
  return dir;
}

/** Direct prediction of one model on `[count, 96, 96, 1]` images (for checking the predictor). */
async function predictDirect(modelDir: string, images: Float32Array, count: number): Promise<Float32Array> {
  const { loadModel } = await import('@keypoints/models');
  const model = await loadModel(modelDir);
  const out = tf.tidy(() => (model.predict(tf.tensor4d(images, [count, 96, 96, 1])) as tf.Tensor).dataSync() as Float32Array);
  model.dispose();
  return out;
}

async function expectKeypointsError(promise: Promise<unknown>, code: string, ...parts: string[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isKeypointsError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  for (const p of parts) expect((error as Error).message).toContain(p);
}

describe.skipIf(!shared.available)('keypoints submit, ensemble predictor and per-keypoint evaluation', () => {
  let dir: string;
  let testCsv: string;
  let testKeypoints: string;
  let faces: ConvertedLandmarks;
  let fullRun: string;
  let specialists: string;
  let trainCsv: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-submit-'));
    testCsv = join(dir, 'test.csv');
    testKeypoints = join(dir, 'test_keypoints.csv.gz');
    const t0 = performance.now();
    const made = await makeKaggleTestSet({ p1Dir: shared.path('youtube_faces_p1'), out: testCsv, keypointsOut: testKeypoints });
    console.info(`submit.test.ts: converted ${made.out.rows} faces into ${testCsv} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    faces = made.table;

    // A training file of 60 of those faces (with Identity), for the configs' validation splits.
    const n = 60;
    trainCsv = join(dir, 'train.csv');
    await writeKaggleCsv(trainCsv, {
      count: n,
      columns: faces.columns,
      keypoints: faces.keypoints.subarray(0, n * 30),
      images: faces.images.subarray(0, n * IMAGE_PIXELS),
      identities: faces.identities.slice(0, n),
    });

    // A net1 run written the way runs were before the `keypoints` field existed (treated as 'full').
    fullRun = join(dir, 'net1');
    await saveRun(fullRun, buildFullyConnected({ seed: 1 }), { model: 'net1', name: 'net1', data: trainCsv });
    const raw = JSON.parse(await readFile(join(fullRun, 'config.json'), 'utf8'));
    for (const k of ['keypoints', 'pretrained', 'missing', 'missingLike', 'threads']) delete raw[k];
    await writeFile(join(fullRun, 'config.json'), JSON.stringify(raw, null, 2));

    // Two tiny specialists: eye centres (CNN, 4 outputs) and nose tip (fully connected, 2 outputs).
    specialists = join(dir, 'specialists');
    const common = { data: trainCsv, seed: 42, groupBy: 'identity' };
    await saveRun(join(specialists, 'eye_center'), buildCnn({ outputs: 4, dense: [8, 8], seed: 2 }), {
      ...common, model: 'net2', name: 'eye_center', keypoints: 'eye_center',
    });
    await saveRun(join(specialists, 'nose_tip'), buildFullyConnected({ hidden: 8, outputs: 2, seed: 3 }), {
      ...common, model: 'net1', name: 'nose_tip', keypoints: 'nose_tip',
    });
    const entry = (name: string) => ({
      name,
      runDir: name,
      columns: SPECIALIST_KEYPOINT_SETS.find((s) => s.name === name)!.columns,
      status: 'completed',
      epochs: 1,
      bestValidRmsePx: 10,
      trainSeconds: 0.1,
    });
    await writeFile(
      join(specialists, 'specialists.json'),
      JSON.stringify({ kind: 'specialists', pretrained: fullRun, workers: 1, threadsPerWorker: 1, wallSeconds: 1, sequentialSeconds: 1, specialists: [entry('eye_center'), entry('nose_tip')] }),
    );
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true }); // test.csv alone is 58 MB
  });

  it('writes a submission for the real IdLookupTable.csv that matches SampleSubmission.csv (1783 converted faces)', async () => {
    const out = join(dir, 'submission.csv');
    const r = await writeSubmission({ model: fullRun, test: testCsv, lookup: LOOKUP, out, logger: silentLogger });
    expect(r).toMatchObject({ file: out, rows: 27124, images: KAGGLE_TEST_IMAGES, kind: 'model' });

    const text = await readFile(out, 'utf8');
    const sample = await readFile(SAMPLE_SUBMISSION, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('\r');
    const lines = text.slice(0, -1).split('\n');
    const sampleLines = sample.trimEnd().split(/\r?\n/);
    expect(lines[0]).toBe('RowId,Location');
    expect(lines[0]).toBe(sampleLines[0]);
    expect(lines).toHaveLength(1 + 27124);
    expect(lines).toHaveLength(sampleLines.length);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.every((f) => f.length === 2)).toBe(true);
    expect(rows.map((f) => f[0])).toEqual(sampleLines.slice(1).map((l) => l.split(',')[0])); // same RowIds, same order
    const locations = rows.map((f) => Number(f[1]));
    expect(rows.every((f) => /^\d+(\.\d{1,4})?$/.test(f[1]))).toBe(true);
    expect(locations.every((v) => Number.isFinite(v) && v >= 0 && v <= 96)).toBe(true);
    expect(new Set(locations).size).toBeGreaterThan(1000); // real predictions, not a constant

    // Every ImageId 1..1783 is asked for and predicted, and each Location is that image's prediction.
    const lookup = await readLookupTable(LOOKUP);
    expect(new Set(lookup.map((l) => l.imageId))).toEqual(new Set(Array.from({ length: KAGGLE_TEST_IMAGES }, (_, i) => i + 1)));
    const test = await readKaggleCsv(testCsv, { columns: [] });
    expect(test.imageIds).toEqual(Array.from({ length: KAGGLE_TEST_IMAGES }, (_, i) => i + 1));
    const picks = [0, 1, 7, 5000, 13562, 27123].map((i) => lookup[i]);
    const images = new Float32Array(picks.length * IMAGE_PIXELS);
    picks.forEach((p, i) => {
      for (let q = 0; q < IMAGE_PIXELS; q++) images[i * IMAGE_PIXELS + q] = test.images![(p.imageId - 1) * IMAGE_PIXELS + q] / 255;
    });
    const direct = await predictDirect(join(fullRun, 'model'), images, picks.length);
    picks.forEach((p, i) => {
      const px = Math.min(96, Math.max(0, toPixels(direct[i * 30 + KAGGLE_COLUMNS.indexOf(p.featureName)])));
      expect(locations[lookup.indexOf(p)]).toBeCloseTo(px, 3);
    });
  });

  it('`keypoints submit` runs from the command line; errors name the file, line and column', async () => {
    // A 3-image test.csv and small lookup tables.
    const small = join(dir, 'small-test.csv');
    await writeKaggleCsv(small, { count: 3, images: faces.images.subarray(0, 3 * IMAGE_PIXELS) }, { format: 'test' });
    const lookup = async (name: string, rows: string[]) => {
      const f = join(dir, name);
      await writeFile(f, ['RowId,ImageId,FeatureName,Location', ...rows.map((r) => `${r},`)].join('\n') + '\n');
      return f;
    };
    const good = await lookup('good.csv', ['1,1,left_eye_center_x', '2,3,nose_tip_y', '3,2,left_eye_center_y']);
    const out = join(dir, 'cli', 'submission.csv');
    await buildProgram().parseAsync(['node', 'keypoints', 'submit', '--model', specialists, '--test', small, '--lookup', good, '--out', out]);
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('RowId,Location');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['1', '2', '3']);

    const absentImage = await lookup('absent.csv', ['1,1,left_eye_center_x', '2,4,left_eye_center_x']);
    await expectKeypointsError(writeSubmission({ model: fullRun, test: small, lookup: absentImage, out, logger: silentLogger }), 'DATA_FORMAT', absentImage, 'line 3', "column 'ImageId'", 'ImageId 4 is not in', small);
    const badName = await lookup('badname.csv', ['1,1,left_eye_center_x', '2,1,nose_x']);
    await expectKeypointsError(writeSubmission({ model: fullRun, test: small, lookup: badName, out, logger: silentLogger }), 'DATA_FORMAT', badName, 'line 3', "column 'FeatureName'", "'nose_x' is not a Kaggle keypoint column");
    const mouth = await lookup('mouth.csv', ['1,1,nose_tip_x', '2,1,mouth_left_corner_x', '3,2,mouth_left_corner_y']);
    await expectKeypointsError(writeSubmission({ model: specialists, test: small, lookup: mouth, out, logger: silentLogger }), 'DATA_FORMAT', mouth, 'line 3', "column 'FeatureName'", "does not predict 'mouth_left_corner_x' (2 lookup rows");
    await expectKeypointsError(writeSubmission({ model: join(dir, 'nope'), test: small, lookup: good, out, logger: silentLogger }), 'DATA_NOT_FOUND', join(dir, 'nope'), 'no such folder');
    await expectKeypointsError(writeSubmission({ model: dir, test: small, lookup: good, out, logger: silentLogger }), 'DATA_NOT_FOUND', 'neither a run directory');
  });

  it('the ensemble places each specialist’s outputs in its own columns (NaN elsewhere)', async () => {
    const predictor = await loadPredictor(specialists, { logger: silentLogger, batchSize: 2 });
    try {
      expect(predictor.kind).toBe('specialists');
      expect(predictor.columns).toEqual(['left_eye_center_x', 'left_eye_center_y', 'right_eye_center_x', 'right_eye_center_y', 'nose_tip_x', 'nose_tip_y']);
      expect(predictor.members.map((m) => m.name)).toEqual(['eye_center', 'nose_tip']);
      const count = 5; // batches of 2: 2 + 2 + 1
      const images = Float32Array.from(faces.images.subarray(0, count * IMAGE_PIXELS), (v) => v / 255);
      const pred = predictor.predict(images, count);
      expect(pred).toHaveLength(count * 30);
      const eyes = await predictDirect(join(specialists, 'eye_center', 'model'), images, count);
      const nose = await predictDirect(join(specialists, 'nose_tip', 'model'), images, count);
      for (let i = 0; i < count; i++) {
        for (let j = 0; j < 4; j++) expect(pred[i * 30 + j]).toBeCloseTo(eyes[i * 4 + j], 5);
        for (let j = 0; j < 2; j++) expect(pred[i * 30 + 20 + j]).toBeCloseTo(nose[i * 2 + j], 5);
        for (let c = 4; c < 30; c++) if (c !== 20 && c !== 21) expect(pred[i * 30 + c]).toBeNaN();
      }
    } finally {
      predictor.dispose();
    }
  });

  it('refuses two specialists on one column and a manifest whose columns disagree with the run; skips a failed one', async () => {
    const manifest = JSON.parse(await readFile(join(specialists, 'specialists.json'), 'utf8'));
    const twice = join(dir, 'twice');
    await mkdir(twice);
    await writeFile(join(twice, 'specialists.json'), JSON.stringify({ ...manifest, specialists: [
      { ...manifest.specialists[0], runDir: join(specialists, 'eye_center') },
      { ...manifest.specialists[0], name: 'eyes_again', runDir: join(specialists, 'eye_center') },
    ] }));
    await expectKeypointsError(loadPredictor(twice, { logger: silentLogger }), 'CONFIG_INVALID', "'eye_center' and 'eyes_again' both predict 'left_eye_center_x'");
    const wrong = join(dir, 'wrong');
    await mkdir(wrong);
    await writeFile(join(wrong, 'specialists.json'), JSON.stringify({ ...manifest, specialists: [
      { ...manifest.specialists[1], runDir: join(specialists, 'eye_center') },
    ] }));
    await expectKeypointsError(loadPredictor(wrong, { logger: silentLogger }), 'CONFIG_INVALID', 'lists columns nose_tip_x, nose_tip_y', "predicts keypoints 'eye_center'");

    // A failed specialist is skipped with a warning: its columns are not predicted.
    const partial = join(dir, 'partial');
    await mkdir(partial);
    await writeFile(join(partial, 'specialists.json'), JSON.stringify({ ...manifest, specialists: [
      { ...manifest.specialists[0], runDir: join(specialists, 'eye_center') },
      { ...manifest.specialists[1], runDir: join(dir, 'never-trained'), status: 'failed', bestValidRmsePx: null, error: 'boom' },
    ] }));
    const warnings: string[] = [];
    const predictor = await loadPredictor(partial, { logger: { info: () => {}, warn: (m) => void warnings.push(m) } });
    expect(predictor.columns).toEqual(['left_eye_center_x', 'left_eye_center_y', 'right_eye_center_x', 'right_eye_center_y']);
    predictor.dispose();
    expect(warnings.join('\n')).toContain("specialist 'nose_tip' has status 'failed' and no saved model; skipped");
  });

  it('evaluate reports per-keypoint RMSE for a specialists folder on the shared validation split, and for one specialist', async () => {
    const r = await evaluateRun(specialists, { logger: silentLogger });
    const config = await readRunConfig(join(specialists, 'eye_center'));
    const validation = (await loadRunData(config, { keypointSet: FULL_KEYPOINT_SET, missing: 'mask' })).validation;
    expect(r.kind).toBe('specialists');
    expect(r.on).toBe('validation');
    expect(r.count).toBe(validation.count);
    expect(Object.keys(r.perKeypointRmsePx)).toEqual(['left_eye_center', 'right_eye_center', 'nose_tip']);
    expect(r.perKeypointCount).toEqual({ left_eye_center: validation.count, right_eye_center: validation.count, nose_tip: validation.count });

    // Recompute from the models directly.
    const eyes = await predictDirect(join(specialists, 'eye_center', 'model'), validation.images, validation.count);
    const nose = await predictDirect(join(specialists, 'nose_tip', 'model'), validation.images, validation.count);
    const se = { left_eye_center: 0, right_eye_center: 0, nose_tip: 0 };
    for (let i = 0; i < validation.count; i++) {
      for (let j = 0; j < 4; j++) se[j < 2 ? 'left_eye_center' : 'right_eye_center'] += (eyes[i * 4 + j] - validation.targets[i * 30 + j]) ** 2;
      for (let j = 0; j < 2; j++) se.nose_tip += (nose[i * 2 + j] - validation.targets[i * 30 + 20 + j]) ** 2;
    }
    const n = 2 * validation.count;
    for (const [k, v] of Object.entries(se)) expect(r.perKeypointRmsePx[k]).toBeCloseTo(rmsePixelsFromMse(v / n), 3);
    expect(r.rmsePx).toBeCloseTo(rmsePixelsFromMse((se.left_eye_center + se.right_eye_center + se.nose_tip) / (3 * n)), 3);

    // One specialist run: only its keypoints, on its own validation rows.
    const one = await evaluateRun(join(specialists, 'nose_tip'), { logger: silentLogger });
    expect(one.kind).toBe('model');
    expect(Object.keys(one.perKeypointRmsePx)).toEqual(['nose_tip']);
    expect(one.perKeypointRmsePx.nose_tip).toBeCloseTo(r.perKeypointRmsePx.nose_tip, 3);

    // The full model on the converted test set joined with its keypoints: all 15 keypoints.
    const full = await evaluateRun(fullRun, { data: testCsv, keypoints: testKeypoints, logger: silentLogger });
    expect(full.count).toBe(KAGGLE_TEST_IMAGES);
    expect(Object.keys(full.perKeypointRmsePx)).toEqual([...KAGGLE_KEYPOINTS]);
    expect(Object.values(full.perKeypointCount).every((c) => c === KAGGLE_TEST_IMAGES)).toBe(true);

    // The embedded sample's test faces also have ImageIds 1…200, but of other people than these keypoints: refused.
    const sampleTest = join(dirname(DEFAULT_TRAINING_DATA), 'test.csv.gz');
    await expect(evaluateRun(fullRun, { data: sampleTest, keypoints: testKeypoints, logger: silentLogger })).rejects.toThrow(
      /ImageId 1 is identity '.+' there but '.+' in .*test\.csv\.gz; expected the keypoint file made with that test\.csv/,
    );
  });
});
