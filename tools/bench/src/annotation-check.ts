/**
 * `npx nx run bench:annotation-convention` (or
 * `node --conditions=@keypoints/source --import tsx tools/bench/src/annotation-check.ts`): where do the Udacity P1
 * (YouTube-Faces) 68-point annotations, and face-api's 68-point net, sit against the **pixels** of the faces?
 * An image-based check of the annotation's pixel convention that trusts neither annotation set
 * (estimators in `annotation-convention.ts`, pixel-centre convention: pixel `i` is centred at `i`).
 *
 * On every near-frontal P1 frame (training and test folders; jaw asymmetry `|(x16 − x30) − (x30 − x0)| / IOD ≤
 * --max-yaw`, eye-line roll `≤ --max-roll` rad; IOD = outer eye corners 36–45):
 *
 * 1. **Horizontal**: the face's mirror-symmetry axis from the pixels (band-passed image, axis perpendicular to the
 *    eye line, brows to bottom lip, ±0.5 IOD compared) against the annotation's midline: the signed distance from
 *    the axis of the eye-centre midpoint, the nose tip (30), the mouth centre (mean of 48, 54, 51, 57) and the mean
 *    of the 15 Kaggle keypoints.
 * 2. **Eye centres**: the pupil/iris centre from the pixels (iterated darkness centroid, and Timm & Barth's
 *    gradient method), started from the annotated eye centre (mean of 36–41 / 42–47), against that annotated
 *    centre, x and y, averaged over both eyes (which cancels mirror-symmetric anatomy in x).
 * 3. The same on the **converted 96 × 96 crops** (`convertLandmarkImage`, the sample's converter): if the
 *    converter's mapping is right, each crop offset is the photo offset × 96 / crop side.
 * 4. The same for **face-api's** 68 points (tiny detector with the plugin's settings, then `withFaceLandmarks()`,
 *    as in `photo-nme.ts`), taken as face-api returns them (no half-pixel shift), cached in
 *    `runs/bench/face-api-68-p1.json` (`--face-api off` skips it).
 *
 * Offsets are annotation − pixel estimate, photo pixels (`+` = right / down), mean over identities of the
 * per-identity means (frames of one video are not independent) ± its standard error; plus a straight-line fit
 * against the face size (`offset = c + b × IOD`, cluster-robust SE): a pixel-convention offset is the same number
 * of pixels on every face (`c`), anatomy and the estimators' own leanings scale with the face (`b`).
 *
 * Options: `--limit N` (first N selected faces, sorted by file name), `--max-yaw 0.2`, `--max-roll 0.15`,
 * `--face-api on|off` (default on), `--out runs/bench/annotation-convention.json`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createWasmBackend } from '@keypoints/backend-wasm';
import { convertLandmarkImage, ibug68ToKaggle, readLandmarkCsv, toCropPixels, type LandmarkRecord } from '@keypoints/data';
import { readPhoto } from '@keypoints/inference';
import { loadFaceApi68 } from './face-api-68.js';
import {
  bandPass,
  clusteredFit,
  clusteredMean,
  darkCentroid,
  distanceFromAxis,
  gaussianBlur,
  gradientEyeCentre,
  grayImage,
  symmetryAxis,
  type ClusteredFit,
  type ClusteredMean,
  type GrayImage,
} from './annotation-convention.js';
import { machineInfo } from './machine.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const { values } = parseArgs({
  options: {
    limit: { type: 'string' },
    'max-yaw': { type: 'string', default: '0.2' },
    'max-roll': { type: 'string', default: '0.15' },
    'face-api': { type: 'string', default: 'on' },
    out: { type: 'string', default: join('runs', 'bench', 'annotation-convention.json') },
  },
});

function fail(message: string): never {
  process.stderr.write(`annotation-check: ${message}\n`);
  process.exit(1);
}

/** The shared folder by the rule of `@keypoints/test-support`: `$KEYPOINTS_SHARED_DIR`, else `<repo>/../shared`, else `<repo>/shared`. */
function sharedDir(): string {
  const env = process.env.KEYPOINTS_SHARED_DIR;
  if (env !== undefined && env !== '') return resolve(env);
  const beside = resolve(REPO_ROOT, '..', 'shared');
  const inside = resolve(REPO_ROOT, 'shared');
  return !existsSync(join(beside, 'data')) && existsSync(join(inside, 'data')) ? inside : beside;
}

const maxYaw = Number(values['max-yaw']);
const maxRoll = Number(values['max-roll']);
const useFaceApi = values['face-api'] !== 'off';
const p1 = join(sharedDir(), 'data', 'youtube_faces_p1');
if (!existsSync(join(p1, 'training_frames_keypoints.csv'))) {
  fail(`the P1 frames are not there (${p1}). Put the shared folder beside the repository (../shared) or set KEYPOINTS_SHARED_DIR.`);
}

const all = [
  ...(await readLandmarkCsv(join(p1, 'training_frames_keypoints.csv'), join(p1, 'training'))),
  ...(await readLandmarkCsv(join(p1, 'test_frames_keypoints.csv'), join(p1, 'test'))),
].sort((a, b) => (a.imagePath < b.imagePath ? -1 : a.imagePath > b.imagePath ? 1 : 0));

const pt = (points: ArrayLike<number>, k: number): [number, number] => [points[2 * k], points[2 * k + 1]];
const interOcular = (points: ArrayLike<number>) => Math.hypot(points[90] - points[72], points[91] - points[73]);

/** Pose of a face from its 68 points: jaw asymmetry about the nose tip (yaw proxy, IOD units) and eye-line roll (rad). */
function pose(points: ArrayLike<number>): { yaw: number; roll: number } {
  const kp = ibug68ToKaggle(points);
  const iod = interOcular(points);
  const yaw = (pt(points, 16)[0] - pt(points, 30)[0] - (pt(points, 30)[0] - pt(points, 0)[0])) / iod;
  return { yaw, roll: Math.atan2(kp[1] - kp[3], kp[0] - kp[2]) };
}

let records = all.filter((r) => {
  const p = pose(r.points);
  return Math.abs(p.yaw) <= maxYaw && Math.abs(p.roll) <= maxRoll;
});
const selected = records.length;
if (values.limit !== undefined) records = records.slice(0, Number(values.limit));
process.stderr.write(`P1 frames: ${all.length}; near-frontal (|yaw| ≤ ${maxYaw}, |roll| ≤ ${maxRoll}): ${selected}; measuring ${records.length}\n`);

// ---------------------------------------------------------------------------------------------------------------
// face-api's 68 points (cached).

let labelledFace68: Awaited<ReturnType<typeof loadFaceApi68>> | undefined;
const cacheFile = resolve(REPO_ROOT, 'runs', 'bench', 'face-api-68-p1.json');
type FaceApiCache = Record<string, number[] | null>;
let faceApi: FaceApiCache = {};
if (useFaceApi) {
  if (existsSync(cacheFile)) faceApi = JSON.parse(await readFile(cacheFile, 'utf8')) as FaceApiCache;
  const todo = records.filter((r) => !(r.name in faceApi) && !(relative(p1, r.imagePath) in faceApi));
  if (todo.length > 0) {
    await createWasmBackend({ threads: 1 }).init(); // one thread: this is a shared machine
    const t0 = Date.now();
    let done = 0;
    for (const r of todo) {
      faceApi[relative(p1, r.imagePath)] = await faceApiPoints(r);
      if (++done % 50 === 0 || done === todo.length) {
        process.stderr.write(`face-api 68: ${done}/${todo.length} (${((Date.now() - t0) / done).toFixed(0)} ms/photo)\n`);
        await mkdir(dirname(cacheFile), { recursive: true });
        await writeFile(cacheFile, JSON.stringify(faceApi));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Measurements.

/** One face's offsets of an annotation (68 points, photo or crop pixels) against pixel estimates. */
interface Offsets {
  eyesMid: number;
  nose: number;
  mouth: number;
  all15: number;
  darkX: number;
  darkY: number;
  gradX: number;
  gradY: number;
}

interface Pixelwise {
  readonly axis: ReturnType<typeof symmetryAxis>;
  readonly dark: Array<{ x: number; y: number } | undefined>;
  readonly grad: Array<{ x: number; y: number } | undefined>;
}

/**
 * Pixel estimates on one image: the symmetry axis and both eye centres, with the region and scale taken from
 * `guide` (68 points in the image's pixels; only differences of its points and rough positions are used).
 */
function measure(img: GrayImage, guide: ArrayLike<number>): Pixelwise {
  const kp = ibug68ToKaggle(guide);
  const iod = interOcular(guide);
  const roll = Math.atan2(kp[1] - kp[3], kp[0] - kp[2]);
  const browY = (pt(guide, 19)[1] + pt(guide, 24)[1]) / 2;
  const lipY = pt(guide, 57)[1];
  const bp = bandPass(img, Math.max(0.7, 0.02 * iod), 0.25 * iod);
  const axis = symmetryAxis(bp, {
    centre: [(kp[0] + kp[2] + 2 * kp[20]) / 4, (browY + lipY) / 2],
    angle: roll,
    halfWidth: 0.5 * iod,
    halfHeight: Math.max(2, (lipY - browY) / 2),
    search: 0.15 * iod,
  });
  const smooth = gaussianBlur(img, Math.max(0.5, 0.02 * iod));
  const eyes: Array<[number, number]> = [
    [kp[0], kp[1]],
    [kp[2], kp[3]],
  ];
  return {
    axis,
    dark: eyes.map((e) => darkCentroid(smooth, e, 0.09 * iod)),
    grad: eyes.map((e) => gradientEyeCentre(smooth, e, 0.1 * iod)),
  };
}

/** Offsets of annotation `points` against the pixel estimates `m` (NaN where an estimate failed). */
function offsets(points: ArrayLike<number>, m: Pixelwise): Offsets {
  const kp = ibug68ToKaggle(points);
  const ax = m.axis;
  const d = (x: number, y: number) => (ax ? distanceFromAxis(ax, x, y) : NaN);
  const mouth = [48, 54, 51, 57].map((k) => pt(points, k));
  let all15 = 0;
  for (let k = 0; k < 15; k++) all15 += d(kp[2 * k], kp[2 * k + 1]) / 15;
  const eyes = [
    [kp[0], kp[1]],
    [kp[2], kp[3]],
  ];
  const both = (est: Pixelwise['dark'], c: 0 | 1) => {
    if (!est[0] || !est[1]) return NaN;
    return (eyes[0][c] - (c === 0 ? est[0].x : est[0].y) + eyes[1][c] - (c === 0 ? est[1].x : est[1].y)) / 2;
  };
  return {
    eyesMid: d((kp[0] + kp[2]) / 2, (kp[1] + kp[3]) / 2),
    nose: d(kp[20], kp[21]),
    mouth: d(mouth.reduce((s, p) => s + p[0], 0) / 4, mouth.reduce((s, p) => s + p[1], 0) / 4),
    all15,
    darkX: both(m.dark, 0),
    darkY: both(m.dark, 1),
    gradX: both(m.grad, 0),
    gradY: both(m.grad, 1),
  };
}

const KEYS = ['eyesMid', 'nose', 'mouth', 'all15', 'darkX', 'darkY', 'gradX', 'gradY'] as const;
const LABELS: Record<(typeof KEYS)[number], string> = {
  eyesMid: 'x: eye-centre midpoint − symmetry axis',
  nose: 'x: nose tip − symmetry axis',
  mouth: 'x: mouth centre − symmetry axis',
  all15: 'x: mean of the 15 keypoints − symmetry axis',
  darkX: 'x: eye centre − darkness centroid (both eyes)',
  darkY: 'y: eye centre − darkness centroid (both eyes)',
  gradX: 'x: eye centre − gradient centre (both eyes)',
  gradY: 'y: eye centre − gradient centre (both eyes)',
};

interface Row {
  name: string;
  identity: string;
  iod: number;
  /** Crop scale 96 / side (> 1: the crop was enlarged). */
  f: number;
  ours: Offsets;
  /** Our converted keypoints on the converted crop (crop pixels), against the crop's pixels. */
  crop: Offsets;
  faceApi?: Offsets;
  /** face-api − P1 over all 68 points: mean dx, dy (photo px) and the scale of face-api's shape about P1's centroid − 1. */
  faceApiMinusP1?: { dx: number; dy: number; scale: number };
}

/** face-api − P1 over the 68 points: the mean shift, and (after removing it) the least-squares scale about P1's centroid − 1. */
function shiftAndScale(fa: ArrayLike<number>, p1: ArrayLike<number>): { dx: number; dy: number; scale: number } {
  let dx = 0;
  let dy = 0;
  let cx = 0;
  let cy = 0;
  for (let k = 0; k < 68; k++) {
    dx += (fa[2 * k] - p1[2 * k]) / 68;
    dy += (fa[2 * k + 1] - p1[2 * k + 1]) / 68;
    cx += p1[2 * k] / 68;
    cy += p1[2 * k + 1] / 68;
  }
  let num = 0;
  let den = 0;
  for (let k = 0; k < 68; k++) {
    const ux = p1[2 * k] - cx;
    const uy = p1[2 * k + 1] - cy;
    num += ux * (fa[2 * k] - dx - cx) + uy * (fa[2 * k + 1] - dy - cy);
    den += ux * ux + uy * uy;
  }
  return { dx, dy, scale: num / den - 1 };
}

const rows: Row[] = [];
const t0 = Date.now();
for (const r of records) {
  const photo = await readPhoto(r.imagePath);
  const img = grayImage(photo.grey, photo.width, photo.height);
  const m = measure(img, r.points);
  // The converted crop (the sample's converter), with all 68 points mapped into it as the 15 keypoints are.
  const face = await convertLandmarkImage(r);
  const cropPoints = toCropPixels(r.points, face.box);
  const cropImg = grayImage(face.pixels, 96, 96);
  const fa = faceApi[relative(p1, r.imagePath)];
  rows.push({
    name: r.name,
    identity: r.identity,
    iod: interOcular(r.points),
    f: 96 / face.box.side,
    ours: offsets(r.points, m),
    crop: offsets(cropPoints, measure(cropImg, cropPoints)),
    faceApi: fa ? offsets(fa, m) : undefined,
    faceApiMinusP1: fa ? shiftAndScale(fa, r.points) : undefined,
  });
  if (rows.length % 100 === 0) process.stderr.write(`measured ${rows.length}/${records.length} (${((Date.now() - t0) / rows.length).toFixed(0)} ms/face)\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Summaries.

type Summary = Record<(typeof KEYS)[number], { mean: ClusteredMean; fit: ClusteredFit }>;

/** Per measure: mean ± SE over identities, and the fit against IOD; `pick` gives a face's offsets (or none). */
function summarise(subset: readonly Row[], pick: (row: Row) => Partial<Offsets> | undefined): Summary {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const used = subset.filter((row) => Number.isFinite(pick(row)?.[key]));
    const v = used.map((row) => pick(row)![key]!);
    const ids = used.map((row) => row.identity);
    out[key] = { mean: clusteredMean(v, ids), fit: clusteredFit(used.map((row) => row.iod), v, ids) };
  }
  return out as Summary;
}
const per = (f: (row: Row, key: (typeof KEYS)[number]) => number) => (row: Row) =>
  Object.fromEntries(KEYS.map((k) => [k, f(row, k)])) as Partial<Offsets>;

const ours = summarise(rows, (row) => row.ours);
const fa = useFaceApi ? summarise(rows, (row) => row.faceApi) : undefined;
const faMinusOurs = useFaceApi ? summarise(rows, (row) => (row.faceApi ? per((w, k) => w.faceApi![k] - w.ours[k])(row) : undefined)) : undefined;
const crop = summarise(rows, (row) => row.crop);
const oursInCropPx = summarise(rows, per((w, k) => w.ours[k] * w.f));
// Paired check of the converter: crop offset − photo offset × f, per face (0 when the crop's pixels and its
// keypoints move together), for all faces and separately for enlarged (side < 96) and shrunk crops.
const converterOf = (subset: readonly Row[]) => summarise(subset, per((w, k) => w.crop[k] - w.ours[k] * w.f));
const converter = converterOf(rows);
const converterEnlarged = converterOf(rows.filter((row) => row.f > 1));
const converterShrunk = converterOf(rows.filter((row) => row.f < 1));

const sign = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
const fmt = (m: { mean: number; se: number }) => `${sign(m.mean)} ± ${m.se.toFixed(2)}`;
const fitFmt = (x: { fit: ClusteredFit }) => `${fmt({ mean: x.fit.intercept, se: x.fit.interceptSe })}, ${sign(100 * x.fit.slope)} ± ${(100 * x.fit.slopeSe).toFixed(2)} %`;
const dash = '–';
const out: string[] = [];
out.push(
  '**1. Photos.** Offset = annotation − pixel estimate, photo px (+ = right / down). Mean ± SE over identities; "c, b" = fit offset = c + b × IOD (c in px, b in % of IOD).',
  '',
  '| measure | P1 (ours) | P1: c, b | face-api 68, as returned | face-api: c, b | face-api − P1 |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
);
for (const key of KEYS) {
  out.push(
    `| ${LABELS[key]} | ${fmt(ours[key].mean)} | ${fitFmt(ours[key])} | ${fa ? fmt(fa[key].mean) : dash} | ${fa ? fitFmt(fa[key]) : dash} | ${faMinusOurs ? fmt(faMinusOurs[key].mean) : dash} |`,
  );
}
// Offsets by face size (IOD quintiles).
const byIod = [...rows].sort((a, b) => a.iod - b.iod);
// Quintiles; fewer faces than 5 (a quick --limit run) leave some bins empty, and those are not listed.
const bins = Array.from({ length: 5 }, (_, i) => byIod.slice(Math.floor((i * byIod.length) / 5), Math.floor(((i + 1) * byIod.length) / 5))).filter(
  (bin) => bin.length > 0,
);
const binKeys = ['all15', 'darkX', 'darkY', 'gradY'] as const;
out.push(
  '',
  '**2. By face size** (IOD quintiles, photo px): P1 / face-api.',
  '',
  `| IOD (px) | faces | ${binKeys.map((k) => LABELS[k]).join(' | ')} |`,
  `| --- | ---: | ${binKeys.map(() => '---:').join(' | ')} |`,
);
for (const bin of bins) {
  const o = summarise(bin, (row) => row.ours);
  const a = useFaceApi ? summarise(bin, (row) => row.faceApi) : undefined;
  out.push(
    `| ${bin[0].iod.toFixed(0)}–${bin[bin.length - 1].iod.toFixed(0)} | ${bin.length} | ${binKeys.map((k) => `${fmt(o[k].mean)} / ${a ? fmt(a[k].mean) : dash}`).join(' | ')} |`,
  );
}
out.push(
  '',
  '**3. Converted 96 × 96 crops** (`convertLandmarkImage`), crop px.',
  '',
  '| measure | P1 on our crops | P1 photo offset × 96/side | converter check: crop − photo × 96/side | … enlarged crops (side < 96) | … shrunk crops |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
);
for (const key of KEYS) {
  out.push(
    `| ${LABELS[key]} | ${fmt(crop[key].mean)} | ${fmt(oursInCropPx[key].mean)} | ${fmt(converter[key].mean)} | ${fmt(converterEnlarged[key].mean)} | ${fmt(converterShrunk[key].mean)} |`,
  );
}
// face-api − P1 over all 68 points, no pixels involved.
const faRows = rows.filter((row) => row.faceApiMinusP1);
const faIds = faRows.map((row) => row.identity);
const shift = Object.fromEntries(
  (['dx', 'dy', 'scale'] as const).map((k) => {
    const v = faRows.map((row) => row.faceApiMinusP1![k]);
    return [k, { mean: clusteredMean(v, faIds), fit: clusteredFit(faRows.map((row) => row.iod), v, faIds) }];
  }),
) as Record<'dx' | 'dy' | 'scale', { mean: ClusteredMean; fit: ClusteredFit }>;
if (useFaceApi) {
  out.push(
    '',
    `**4. face-api − P1 over all 68 points** (no pixels): dx ${fmt(shift.dx.mean)} px (c, b: ${fitFmt(shift.dx)}), ` +
      `dy ${fmt(shift.dy.mean)} px (c, b: ${fitFmt(shift.dy)}), shape scale about P1's centroid ` +
      `${sign(100 * shift.scale.mean.mean)} ± ${(100 * shift.scale.mean.se).toFixed(2)} %.`,
  );
}
const faces = rows.length;
const withFa = rows.filter((row) => row.faceApi).length;
const ids = new Set(rows.map((row) => row.identity)).size;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
out.push(
  '',
  `${faces} near-frontal P1 frames of ${ids} identities (of ${all.length} frames; |yaw| ≤ ${maxYaw}, |roll| ≤ ${maxRoll} rad)` +
    (useFaceApi ? `; face-api found the labelled face on ${withFa}` : '') +
    `; median IOD ${median(rows.map((r) => r.iod)).toFixed(1)} px (${Math.min(...rows.map((r) => r.iod)).toFixed(0)}–${Math.max(...rows.map((r) => r.iod)).toFixed(0)});` +
    ` ${rows.filter((row) => row.f > 1).length} crops enlarged, median 96/side ${median(rows.map((r) => r.f)).toFixed(3)}.` +
    ' n per cell ≤ faces (a face where an estimator fails is left out of that cell).',
);
console.log(out.join('\n'));

const report = {
  benchmark: 'annotation-convention',
  date: new Date().toISOString(),
  command: 'node --conditions=@keypoints/source --import tsx tools/bench/src/annotation-check.ts' + process.argv.slice(2).map((a) => ` ${a}`).join(''),
  machine: machineInfo(),
  selection: { frames: all.length, nearFrontal: selected, measured: faces, identities: ids, maxYaw, maxRoll, faceApiFound: withFa },
  definitions: {
    offset: 'annotation − pixel estimate, pixels (+ = right / down); pixel-centre convention (pixel i centred at i)',
    mean: 'mean over identities of the per-identity mean, ± standard error over identities',
    fit: 'offset = intercept + slope × IOD (outer eye corners, photo px), OLS with cluster-robust (identity) SE',
    faceApi: "face-api's 68 points as returned (photo coordinates, no half-pixel shift)",
    converter: 'per face: offset on the converted 96 × 96 crop − photo offset × 96 / side (0 when the converter maps coordinates as its pixels move)',
  },
  ours,
  faceApi: fa ?? null,
  faceApiMinusOurs: faMinusOurs ?? null,
  faceApiMinusP1All68: useFaceApi ? shift : null,
  crop,
  oursInCropPx,
  converter,
  converterEnlarged,
  converterShrunk,
  perFace: rows,
};
const outFile = resolve(process.cwd(), values.out!);
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile, JSON.stringify(report, null, 1) + '\n');
console.log(`wrote ${relative(process.cwd(), outFile)}`);

// ---------------------------------------------------------------------------------------------------------------

/**
 * face-api's 68 points on the labelled face of one photo (`face-api-68.ts`: tiny detector, input 416, the detector
 * plugin's min score, border and retry; the best-scoring box whose centre lies in the labelled landmark box), photo
 * coordinates as face-api returns them (no half-pixel shift), rounded to 3 decimals for the cache; `null` when the
 * face is not found.
 */
async function faceApiPoints(r: LandmarkRecord): Promise<number[] | null> {
  labelledFace68 ??= await loadFaceApi68();
  const points = await labelledFace68(r);
  return points ? Array.from(points, (v) => Number(v.toFixed(3))) : null;
}
