/**
 * `npx nx run bench:photo-nme` (or `node --conditions=@keypoints/source --import tsx tools/bench/src/photo-nme.ts`):
 * the landmark field's standard accuracy figure, NME, on the Udacity P1 (YouTube-Faces) **test** photos of the
 * shared data folder, for
 *
 * 1. our default model (`@keypoints/default-model`) through `predictPhotos`, faces from face-api's tiny detector
 *    (`@keypoints/detector-face-api`, its defaults: input 416, min score 0.3, padding 0.5 then 1);
 * 2. face-api's own 68-point landmark net (`detectAllFaces(…, tiny).withFaceLandmarks()`, same tiny detector, same
 *    padding and retry), its 68 points mapped to our 15 keypoints with `IBUG68_TO_KAGGLE`;
 * 3. our default model on the **true** crop (the crop `DEFAULT_CROP_RULE` cuts around the 68 labelled landmarks, the
 *    way the training faces were cut), no detector: model error without detector error.
 *
 * Only photos of identities in the default model's **validation** split are scored (the model was trained on the
 * whole converted set, P1 test frames included, identity-grouped 20 % validation, seed 42; the split is rebuilt
 * with `loadRunData(readRunConfig(DEFAULT_MODEL_DIR))`, which needs `runs/data/youtube-faces/training.csv.gz`).
 *
 * Per face: NME = mean over the 15 keypoints of the Euclidean error ÷ the inter-ocular distance of the ground truth
 * (outer eye corners, `left_eye_outer_corner` ↔ `right_eye_outer_corner`: the 300-W convention); ground truth = the
 * photo's 68 landmarks mapped to the 15 with the same mapping. A face counts as found when a box's centre lies
 * inside the labelled face's landmark box (the best-scoring such box is used). Failure: NME > 10 % **or the face
 * missed**. Mean / median NME and RMSE (photo pixels, over the 30 coordinates) are over the found faces.
 *
 * Options: `--limit N` (a seeded random subset of N photos), `--seed S` (default 42), `--out FILE` (default
 * `runs/bench/photo-nme.json`), `--backend NAME` (default: the project's default, wasm).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { container, KAGGLE_KEYPOINTS, resolveFaceDetector, type KeypointName } from '@keypoints/core';
import { cropBoxFor, DEFAULT_CROP_RULE, ibug68ToKaggle, readLandmarkCsv, type LandmarkRecord } from '@keypoints/data';
import { DEFAULT_MODEL_DIR } from '@keypoints/default-model';
import { registerFaceApiDetector } from '@keypoints/detector-face-api';
import { loadPredictor, predictPhotos, type PhotoPrediction } from '@keypoints/inference';
import { loadFaceApi68, onLabelledFace } from './face-api-68.js';
import { initBackend, loadRunData, readRunConfig } from '@keypoints/pipeline';
import { machineInfo } from './machine.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FAILURE_NME = 0.1;

const { values } = parseArgs({
  options: {
    limit: { type: 'string' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string', default: join('runs', 'bench', 'photo-nme.json') },
    backend: { type: 'string' },
  },
});

/** The shared folder by the rule of `@keypoints/test-support`: `$KEYPOINTS_SHARED_DIR`, else `<repo>/../shared`, else `<repo>/shared`. */
function sharedDir(): string {
  const env = process.env.KEYPOINTS_SHARED_DIR;
  if (env !== undefined && env !== '') return resolve(env);
  const beside = resolve(REPO_ROOT, '..', 'shared');
  const inside = resolve(REPO_ROOT, 'shared');
  return !existsSync(join(beside, 'data')) && existsSync(join(inside, 'data')) ? inside : beside;
}

function fail(message: string): never {
  process.stderr.write(`photo-nme: ${message}\n`);
  process.exit(1);
}

const p1 = join(sharedDir(), 'data', 'youtube_faces_p1');
const testCsv = join(p1, 'test_frames_keypoints.csv');
if (!existsSync(testCsv)) {
  fail(`the P1 test photos are not there (${testCsv} is missing). Put the shared folder beside the repository (../shared) or set KEYPOINTS_SHARED_DIR to it.`);
}

// The default model's validation identities.
const config = await readRunConfig(DEFAULT_MODEL_DIR);
const trainingFile = resolve(REPO_ROOT, config.data);
if (!existsSync(trainingFile)) {
  fail(`${relative(process.cwd(), trainingFile)} is missing: it rebuilds the default model's validation split. Make it with 'npx nx run experiments:youtube-faces-data'.`);
}
const runData = await loadRunData({ ...config, data: trainingFile });
const validationIds = new Set(runData.validation.identities ?? fail('the default model\'s data has no Identity column: cannot rebuild its identity split'));
const trainIds = new Set(runData.train.identities ?? []);

const allTest = (await readLandmarkCsv(testCsv, join(p1, 'test'))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
let records = allTest.filter((r) => validationIds.has(r.identity));
const unknown = allTest.filter((r) => !validationIds.has(r.identity) && !trainIds.has(r.identity)).length;
const identities = new Set(records.map((r) => r.identity));
const limit = values.limit === undefined ? undefined : Number(values.limit);
if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) fail(`--limit must be a positive integer, got ${values.limit}`);
const seed = Number(values.seed);
if (limit !== undefined && limit < records.length) records = seededSample(records, limit, seed);
if (records.length === 0) fail('no P1 test photo belongs to a validation identity');
process.stderr.write(
  `P1 test photos: ${allTest.length}; of validation identities: ${allTest.filter((r) => validationIds.has(r.identity)).length} ` +
    `(${new Set(allTest.filter((r) => validationIds.has(r.identity)).map((r) => r.identity)).size} identities; ${unknown} photos of identities in neither side); scoring ${records.length}\n`,
);

await initBackend(values.backend);
const backend = tf.getBackend();
const byFile = new Map(records.map((r) => [r.imagePath, r]));
const files = records.map((r) => r.imagePath);
const progress = (label: string) => (done: number, total: number) => {
  if (done % 25 === 0 || done === total) process.stderr.write(`${label}: ${done}/${total}\n`);
};

// (1) our model, face-api tiny detector (plugin defaults), through predictPhotos.
const predictor = await loadPredictor(DEFAULT_MODEL_DIR);
const shipped = `default ${config.model}`;
const host = registerFaceApiDetector(container.createChildContainer());
const detector = resolveFaceDetector(host);
let t0 = Date.now();
const detected = await predictPhotos(files, { predictor, detector, onPhoto: progress('ours + detector') });
const secondsOurs = (Date.now() - t0) / 1000;

// (3) our model on the true crop (no detector).
t0 = Date.now();
const trueCrop = await predictPhotos(files, {
  predictor,
  boxes: (file) => {
    const c = cropBoxFor(byFile.get(file)!.points, DEFAULT_CROP_RULE);
    return [[c.left, c.top, c.side, c.side]];
  },
});
const secondsTrue = (Date.now() - t0) / 1000;
predictor.dispose();
detector.dispose?.();

// (2) face-api's 68-point landmark net on the same photos, same detector settings.
t0 = Date.now();
const faceApi = await faceApiLandmarks(records, progress('face-api 68'));
const secondsFaceApi = (Date.now() - t0) / 1000;

const ourFaces = (photos: readonly PhotoPrediction[]) =>
  photos.map((p) => {
    const r = byFile.get(p.file)!;
    const face = p.faces.find((f) => onLabelledFace(f.box, r));
    if (!face) return undefined;
    return Float64Array.from(KAGGLE_KEYPOINTS.flatMap((k: KeypointName) => face.keypoints[k] ?? [NaN, NaN]));
  });

const methods = [
  { key: 'ours-detector', label: `ours (${shipped}), face-api tiny detector`, predictions: ourFaces(detected.photos), seconds: secondsOurs },
  { key: 'face-api-68', label: "face-api's 68-point net (same detector), mapped to 15", predictions: faceApi, seconds: secondsFaceApi },
  { key: 'ours-true-crop', label: `ours (${shipped}), true crop (no detector)`, predictions: ourFaces(trueCrop.photos), seconds: secondsTrue },
] as const;

const results = methods.map((m) => {
  const s = score(records, m.predictions);
  // The same predictions less the method's own mean offset (a constant annotation-convention shift, e.g.
  // face-api's up-left one, removed): how much of the NME that shift explains.
  const [ox, oy] = s.meanOffsetPx;
  const shifted = m.predictions.map((p) => p && p.map((v, i) => v - (i % 2 === 0 ? ox : oy)));
  const u = score(records, shifted);
  return {
    key: m.key,
    label: m.label,
    seconds: Number(m.seconds.toFixed(1)),
    ...s,
    offsetRemoved: { meanNme: u.meanNme, medianNme: u.medianNme, failureRate: u.failureRate, rmsePx: u.rmsePx },
  };
});
const machine = machineInfo();

const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
const lines = [
  '| method | photos | face found | mean NME | median NME | failure rate (NME > 10 % or missed) | RMSE (photo px) | mean offset dx / dy (px) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.label} | ${r.photos} | ${r.found} = ${pct(r.detectionRate)} | ${pct(r.meanNme)} | ${pct(r.medianNme)} | ${r.failures} = ${pct(r.failureRate)} | ${r.rmsePx.toFixed(2)} | ${r.meanOffsetPx[0].toFixed(2)} / ${r.meanOffsetPx[1].toFixed(2)} |`,
  ),
];
console.log(lines.join('\n'));
console.log(
  '\nwith each method\'s mean offset removed (mean NME / median NME / failure rate / RMSE px): ' +
    results.map((r) => `${r.key} ${pct(r.offsetRemoved.meanNme)} / ${pct(r.offsetRemoved.medianNme)} / ${pct(r.offsetRemoved.failureRate)} / ${r.offsetRemoved.rmsePx.toFixed(2)}`).join('; '),
);
console.log(
  `\n${records.length} P1 test photos of ${new Set(records.map((r) => r.identity)).size} validation identities` +
    `${limit !== undefined && limit < allTest.length ? ` (seeded subset, --limit ${limit} --seed ${seed})` : ''}; ` +
    `median inter-ocular distance ${median(records.map(interOcular)).toFixed(1)} px; backend ${backend}`,
);
console.log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}, load ${machine.loadAverage}`);

const report = {
  benchmark: 'photo-nme',
  date: new Date().toISOString(),
  command: 'node --conditions=@keypoints/source --import tsx tools/bench/src/photo-nme.ts' + process.argv.slice(2).map((a) => ` ${a}`).join(''),
  machine,
  backend,
  data: {
    photos: relative(REPO_ROOT, join(p1, 'test')),
    testPhotos: allTest.length,
    validationIdentitiesInModelSplit: validationIds.size,
    testPhotosOfValidationIdentities: allTest.filter((r) => validationIds.has(r.identity)).length,
    testIdentitiesOfValidation: new Set(allTest.filter((r) => validationIds.has(r.identity)).map((r) => r.identity)).size,
    scored: records.length,
    scoredIdentities: identities.size,
    subset: limit !== undefined && limit < allTest.length ? { limit, seed } : null,
    medianInterOcularPx: median(records.map(interOcular)),
  },
  model: { dir: relative(REPO_ROOT, DEFAULT_MODEL_DIR), architecture: config.model, split: { fraction: config.validationFraction, groupBy: runData.groupedBy, seed: config.seed } },
  detector: { name: detector.name, description: detector.description, cropRule: detector.cropRule },
  definitions: {
    nme: 'mean over the 15 keypoints of the Euclidean error / ground-truth distance left_eye_outer_corner-right_eye_outer_corner (300-W inter-ocular)',
    groundTruth: 'the 68 labelled landmarks mapped to the 15 keypoints with IBUG68_TO_KAGGLE',
    found: "a box whose centre lies in the labelled face's landmark box (best score used)",
    failure: `NME > ${FAILURE_NME} or face missed`,
    rmsePx: 'root mean square over the 30 coordinates of the found faces, photo pixels',
    meanOffsetPx: 'mean signed error (prediction - truth) over keypoints of found faces, photo pixels',
    offsetRemoved: 'the same scores after subtracting the method\'s own meanOffsetPx from every prediction',
  },
  results: results.map(({ perPhoto, ...rest }) => rest),
  perPhoto: records.map((r, i) => ({
    file: r.name,
    identity: r.identity,
    interOcularPx: Number(interOcular(r).toFixed(2)),
    nme: Object.fromEntries(results.map((m) => [m.key, m.perPhoto[i] === null ? null : Number(m.perPhoto[i]!.toFixed(5))])),
  })),
};
const outFile = resolve(process.cwd(), values.out!);
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(report, null, 2) + '\n');
console.log(`wrote ${relative(process.cwd(), outFile)}`);

// ---------------------------------------------------------------------------------------------------------------

/** Ground truth: the 15 keypoints from the 68 landmarks, photo pixels. */
function truthOf(r: LandmarkRecord): Float64Array {
  return ibug68ToKaggle(r.points);
}

function keypointIndex(name: KeypointName): number {
  return KAGGLE_KEYPOINTS.indexOf(name);
}

/** 300-W inter-ocular distance: the ground truth's outer eye corners. */
function interOcular(r: LandmarkRecord): number {
  const t = truthOf(r);
  const a = keypointIndex('left_eye_outer_corner');
  const b = keypointIndex('right_eye_outer_corner');
  return Math.hypot(t[2 * a] - t[2 * b], t[2 * a + 1] - t[2 * b + 1]);
}


function score(rs: readonly LandmarkRecord[], predictions: ReadonlyArray<Float64Array | undefined>) {
  const perPhoto: Array<number | null> = [];
  const nmes: number[] = [];
  let sq = 0;
  let coords = 0;
  let dx = 0;
  let dy = 0;
  let failures = 0;
  rs.forEach((r, i) => {
    const p = predictions[i];
    if (!p) {
      perPhoto.push(null);
      failures++;
      return;
    }
    const t = truthOf(r);
    const iod = interOcular(r);
    let sum = 0;
    for (let k = 0; k < KAGGLE_KEYPOINTS.length; k++) {
      const ex = p[2 * k] - t[2 * k];
      const ey = p[2 * k + 1] - t[2 * k + 1];
      sum += Number.isFinite(ex) && Number.isFinite(ey) ? Math.hypot(ex, ey) : Infinity; // a keypoint not predicted fails the face
      if (Number.isFinite(ex) && Number.isFinite(ey)) {
        sq += ex * ex + ey * ey;
        coords += 2;
        dx += ex;
        dy += ey;
      }
    }
    const nme = sum / KAGGLE_KEYPOINTS.length / iod;
    perPhoto.push(nme);
    nmes.push(nme);
    if (!(nme <= FAILURE_NME)) failures++;
  });
  const found = nmes.length;
  return {
    photos: rs.length,
    found,
    detectionRate: found / rs.length,
    meanNme: found ? nmes.reduce((a, b) => a + b, 0) / found : NaN,
    medianNme: median(nmes),
    failures,
    failureRate: failures / rs.length,
    rmsePx: Math.sqrt(sq / Math.max(1, coords)),
    meanOffsetPx: [dx / Math.max(1, coords / 2), dy / Math.max(1, coords / 2)] as [number, number],
    perPhoto,
  };
}

function median(v: readonly number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Seeded sample of `n` items (mulberry32 Fisher–Yates), returned sorted by file name. */
function seededSample<T extends { name: string }>(items: readonly T[], n: number, s: number): T[] {
  let a = s >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/**
 * face-api's 68-point net on each photo: tiny detector with the plugin's settings (input 416, min score 0.3, border
 * of 0.5 × the larger side with edge pixels repeated, a second try with 1 when nothing is found), then
 * `withFaceLandmarks()`; the labelled face's 68 points (best-scoring box on it) → the 15 keypoints, photo pixels.
 * face-api's points are used as returned: measured from the pixels, they are already pixel-centred (their midline
 * sits +0.02 ± 0.11 px from the faces' mirror-symmetry axis; `bench:annotation-convention`,
 * packages/sample-data/data/README.md). Until 2026-11-30 0.5 px was subtracted here, which was wrong.
 */
async function faceApiLandmarks(rs: readonly LandmarkRecord[], onPhoto: (done: number, total: number) => void): Promise<Array<Float64Array | undefined>> {
  const labelledFace68 = await loadFaceApi68();
  const out: Array<Float64Array | undefined> = [];
  for (const r of rs) {
    const points = await labelledFace68(r);
    out.push(points ? ibug68ToKaggle(points) : undefined);
    onPhoto(out.length, rs.length);
  }
  return out;
}
