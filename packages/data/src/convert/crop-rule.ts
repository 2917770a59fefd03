import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import {
  DataFormatError,
  DataNotFoundError,
  ConfigError,
  IMAGE_SIZE,
  KAGGLE_COLUMNS,
} from '@keypoints/core';
import { IBUG68_POINT_COUNT, ibug68ToKaggle } from './ibug68.js';

/**
 * How a square crop is placed around a face, relative to the bounding box of its 68 landmarks.
 *
 * With the landmark box `[minX, maxX] × [minY, maxY]`, centre `(cx, cy)` and size
 * `S = max(maxX − minX, maxY − minY)` (source pixels), the crop square has
 *
 * - side `scale × S`,
 * - centre `(cx + offsetX × S, cy + offsetY × S)`,
 *
 * and is then resized to 96 × 96. No rotation or per-face alignment: one rule for the whole set.
 */
export interface CropRule {
  /** Crop side as a multiple of the landmark box size `S` (> 0; 1 = the box itself). */
  readonly scale: number;
  /** Horizontal shift of the crop centre from the box centre, in units of `S` (+ = image right). */
  readonly offsetX: number;
  /** Vertical shift of the crop centre from the box centre, in units of `S` (+ = down). */
  readonly offsetY: number;
}

/**
 * The default crop rule, calibrated so that the converted YouTube-Faces (Udacity P1) keypoints
 * have the mean positions of the Kaggle training set.
 *
 * How these numbers were obtained (recompute with {@link calibrateCropRule}):
 * 1. Targets: per-column means of the 2140 **complete** rows (all 30 values present) of the Kaggle
 *    `training.csv` keypoints (`shared/data/kaggle/training_keypoints_only.csv`), see
 *    {@link kaggleKeypointMeans} with `rows: 'complete'`. E.g. left eye centre (66.22, 36.84),
 *    bottom lip (48.15, 82.63).
 * 2. Landmarks: the 3111 rows of `shared/data/youtube_faces_p1/training_frames_keypoints.csv`
 *    (CSV only, no images), mapped to the 15 Kaggle keypoints with `ibug68ToKaggle`.
 * 3. The mean converted position of keypoint column `c` is exactly `a × q̄_c + b_x|y`, where
 *    `q̄_c` is the mean of `(p − box centre) / S` over faces, `a = 96 / scale` and
 *    `b = 48 − a × offset`. Ordinary least squares over the 30 columns for `(a, b_x, b_y)`
 *    (3 unknowns, closed form) gives `scale = 1.12239`, `offsetX = 0.00930`, `offsetY = −0.17258`
 *    (rounded below to 4 decimals). Residual: RMS 1.18 px, max 2.43 px (left eyebrow inner end y).
 *
 * The crop is tight, like Kaggle's faces: for a landmark box as tall as it is wide, its top is 0.23·S
 * above the brows and its bottom 0.11·S above the lowest chin landmark.
 *
 * Why the complete rows: the 4755 Kaggle rows with only 4 keypoints are a different population of
 * images (the face sits lower and smaller), which pulls the means of those 4 columns (eye centres,
 * nose tip, bottom lip) away from the others; against the per-column means over all present values
 * no square crop gets every keypoint within 3 px (best possible maximum error: 3.44 px, nose tip
 * and bottom lip). The complete rows are also what a full-set model trains on (rows with missing
 * targets dropped).
 */
export const DEFAULT_CROP_RULE: CropRule = Object.freeze({ scale: 1.1224, offsetX: 0.0093, offsetY: -0.1726 });

/** Bounding box of a face's landmarks, in source pixels. */
export interface LandmarkBox {
  readonly minX: number;
  readonly maxX: number;
  readonly minY: number;
  readonly maxY: number;
  /** Box centre x `(minX + maxX) / 2`. */
  readonly cx: number;
  /** Box centre y `(minY + maxY) / 2`. */
  readonly cy: number;
  /** `max(maxX − minX, maxY − minY)`. */
  readonly size: number;
}

/** A square crop in source pixels, with integer corner and side (it may extend past the image). */
export interface CropBox {
  /** Left column (may be negative). */
  readonly left: number;
  /** Top row (may be negative). */
  readonly top: number;
  /** Side in pixels (≥ 1). */
  readonly side: number;
}

/**
 * Bounding box of the 68 landmarks.
 *
 * @param points `[136]` = `x0, y0, …, x67, y67`, source pixels.
 * @throws {RangeError} when `points` does not hold 136 finite values.
 */
export function landmarkBox(points: ArrayLike<number>): LandmarkBox {
  if (points.length !== 2 * IBUG68_POINT_COUNT) {
    throw new RangeError(`expected ${2 * IBUG68_POINT_COUNT} landmark coordinates, got ${points.length}`);
  }
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < IBUG68_POINT_COUNT; k++) {
    const x = points[2 * k];
    const y = points[2 * k + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new RangeError(`landmark ${k} is not finite`);
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  return {
    minX,
    maxX,
    minY,
    maxY,
    cx: (minX + maxX) / 2,
    cy: (minY + maxY) / 2,
    size: Math.max(maxX - minX, maxY - minY),
  };
}

/**
 * The square crop of one face under a crop rule: side `round(scale × S)` (at least 1), corner rounded
 * to whole pixels.
 *
 * @param points `[136]` landmarks, source pixels.
 * @param rule defaults to {@link DEFAULT_CROP_RULE}.
 * @throws {RangeError} when `points` does not hold 136 finite values.
 */
export function cropBoxFor(points: ArrayLike<number>, rule: CropRule = DEFAULT_CROP_RULE): CropBox {
  const box = landmarkBox(points);
  const exact = rule.scale * box.size;
  const side = Math.max(1, Math.round(exact));
  const left = Math.round(box.cx + rule.offsetX * box.size - exact / 2);
  const top = Math.round(box.cy + rule.offsetY * box.size - exact / 2);
  return { left, top, side };
}

/**
 * Source pixel coordinates → output pixel coordinates of the crop resized to `size × size`.
 * Pixel-centre convention on both sides (pixel `i` covers `[i − 0.5, i + 0.5]`):
 * `u = (p − left + 0.5) × size / side − 0.5`.
 *
 * @param xy interleaved `x, y, x, y, …` source pixels (`NaN` stays `NaN`).
 * @param box the crop.
 * @param size output side, default 96.
 * @returns a new array, same length, output pixels.
 */
export function toCropPixels(xy: ArrayLike<number>, box: CropBox, size: number = IMAGE_SIZE): Float64Array {
  const f = size / box.side;
  const out = new Float64Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    out[i] = (xy[i] - box.left + 0.5) * f - 0.5;
    out[i + 1] = (xy[i + 1] - box.top + 0.5) * f - 0.5;
  }
  return out;
}

/**
 * One face's 68 landmarks → its 15 Kaggle keypoints in the 96 × 96 crop, and the crop.
 *
 * @param points `[136]` landmarks, source pixels.
 * @param rule defaults to {@link DEFAULT_CROP_RULE}.
 * @returns `keypoints`: `[30]` Kaggle column order, output pixels (may lie outside 0..96 for
 *   unusual faces); `box`: the crop in source pixels.
 * @throws {RangeError} when `points` does not hold 136 finite values.
 */
export function landmarksToKaggleKeypoints(
  points: ArrayLike<number>,
  rule: CropRule = DEFAULT_CROP_RULE,
): { keypoints: Float64Array; box: CropBox } {
  const box = cropBoxFor(points, rule);
  return { keypoints: toCropPixels(ibug68ToKaggle(points), box), box };
}

/** Per-column means of a Kaggle keypoint table, see {@link kaggleKeypointMeans}. */
export interface KaggleKeypointMeans {
  /** `[30]` pixels, Kaggle column order (`NaN` for a column with no value). */
  readonly means: Float64Array;
  /** `[30]` number of values averaged per column. */
  readonly counts: Int32Array;
  /** Data rows read. */
  readonly rows: number;
}

/**
 * Per-column mean keypoint positions of a Kaggle `training.csv`-style file (the 30 keypoint columns,
 * optionally with `Image` and other columns; `.gz` is gunzipped).
 *
 * @param file path, e.g. `shared/data/kaggle/training_keypoints_only.csv`.
 * @param options.rows `'complete'` (default): only rows with all 30 values (2140 in Kaggle's file);
 *   `'present'`: every present value of each column.
 * @throws {DataNotFoundError} when the file cannot be read.
 * @throws {DataFormatError} when a keypoint column is missing from the header or a value is not a number.
 */
export async function kaggleKeypointMeans(
  file: string,
  options: { rows?: 'complete' | 'present' } = {},
): Promise<KaggleKeypointMeans> {
  const mode = options.rows ?? 'complete';
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (error) {
    throw new DataNotFoundError(`cannot read Kaggle keypoint file ${file}: ${(error as Error).message}`, { cause: error });
  }
  const text = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = text.split(/\r?\n/);
  const header = lines[0].split(',');
  const index = KAGGLE_COLUMNS.map((c) => {
    const i = header.indexOf(c);
    if (i < 0) throw new DataFormatError({ file, line: 1, column: c }, 'keypoint column missing from the header');
    return i;
  });
  const sums = new Float64Array(KAGGLE_COLUMNS.length);
  const counts = new Int32Array(KAGGLE_COLUMNS.length);
  const values = new Float64Array(KAGGLE_COLUMNS.length);
  let rows = 0;
  for (let l = 1; l < lines.length; l++) {
    if (lines[l] === '') continue;
    rows++;
    const fields = lines[l].split(',');
    let complete = true;
    for (let c = 0; c < index.length; c++) {
      const f = fields[index[c]] ?? '';
      if (f === '') {
        values[c] = NaN;
        complete = false;
        continue;
      }
      const v = Number(f);
      if (!Number.isFinite(v)) {
        throw new DataFormatError({ file, line: l + 1, column: KAGGLE_COLUMNS[c] }, `'${f}' is not a number`);
      }
      values[c] = v;
    }
    if (mode === 'complete' && !complete) continue;
    for (let c = 0; c < index.length; c++) {
      if (Number.isNaN(values[c])) continue;
      sums[c] += values[c];
      counts[c]++;
    }
  }
  const means = new Float64Array(KAGGLE_COLUMNS.length);
  for (let c = 0; c < means.length; c++) means[c] = counts[c] > 0 ? sums[c] / counts[c] : NaN;
  return { means, counts, rows };
}

/** Result of {@link calibrateCropRule}. */
export interface CropCalibration {
  /** The fitted rule (full precision). */
  readonly rule: CropRule;
  /** Faces used. */
  readonly faces: number;
  /** `[30]` the targets (pixels, Kaggle column order). */
  readonly targetMeans: Float64Array;
  /** `[30]` mean converted positions under `rule` (continuous model, no rounding), pixels. */
  readonly predictedMeans: Float64Array;
  /** `[30]` `predictedMeans − targetMeans`, pixels (`NaN` where the target is `NaN`). */
  readonly residuals: Float64Array;
  /** Largest absolute residual, pixels. */
  readonly maxAbsResidual: number;
  /** Root mean square of the residuals, pixels. */
  readonly rmsResidual: number;
}

/**
 * Fit the crop rule (scale and x/y offset of the crop square relative to the landmark box) so that the
 * mean converted keypoint positions match target means, by least squares over the 30 columns.
 *
 * Model: the mean output position of column `c` is `a × q̄_c + b`, with `q̄_c` the mean over faces of
 * `(p − box centre) / S` (see {@link CropRule}), `a = 96 / scale`, `b = 48 − a × offset` (`b_x` for x
 * columns, `b_y` for y columns). This is linear in `(a, b_x, b_y)`, so the fit is a 3 × 3 solve. Rounding
 * of the crop to whole pixels and the half-pixel convention are ignored (well under 0.5 px).
 *
 * @param landmarks faces, each `[136]` iBUG-68 landmarks in source pixels (e.g. `LandmarkRecord.points`).
 * @param targetMeans `[30]` target mean positions in 96 × 96 pixels, Kaggle column order (e.g.
 *   {@link kaggleKeypointMeans}); a `NaN` column is left out of the fit.
 * @throws {ConfigError} when there are no faces, fewer than 3 usable target columns, or the fit is degenerate.
 */
export function calibrateCropRule(
  landmarks: Iterable<ArrayLike<number>>,
  targetMeans: ArrayLike<number>,
): CropCalibration {
  const n = KAGGLE_COLUMNS.length;
  if (targetMeans.length !== n) throw new ConfigError(`targetMeans must hold ${n} values, got ${targetMeans.length}`);
  const qbar = new Float64Array(n);
  let faces = 0;
  for (const points of landmarks) {
    const box = landmarkBox(points);
    const kp = ibug68ToKaggle(points);
    for (let c = 0; c < n; c++) qbar[c] += (kp[c] - (c % 2 === 0 ? box.cx : box.cy)) / box.size;
    faces++;
  }
  if (faces === 0) throw new ConfigError('calibrateCropRule needs at least one face');
  for (let c = 0; c < n; c++) qbar[c] /= faces;

  // Normal equations for (a, bx, by).
  const A = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const r = [0, 0, 0];
  let used = 0;
  for (let c = 0; c < n; c++) {
    const t = targetMeans[c];
    if (!Number.isFinite(t)) continue;
    used++;
    const v = [qbar[c], c % 2 === 0 ? 1 : 0, c % 2 === 1 ? 1 : 0];
    for (let i = 0; i < 3; i++) {
      r[i] += v[i] * t;
      for (let j = 0; j < 3; j++) A[i][j] += v[i] * v[j];
    }
  }
  if (used < 3) throw new ConfigError('calibrateCropRule needs at least 3 finite target means');
  const [a, bx, by] = solve3(A, r);
  if (!(a > 0) || !Number.isFinite(bx) || !Number.isFinite(by)) {
    throw new ConfigError('crop calibration is degenerate (needs x and y target columns spread over the face)');
  }
  const half = IMAGE_SIZE / 2;
  const rule: CropRule = { scale: IMAGE_SIZE / a, offsetX: (half - bx) / a, offsetY: (half - by) / a };
  const predictedMeans = new Float64Array(n);
  const residuals = new Float64Array(n);
  let max = 0;
  let sq = 0;
  for (let c = 0; c < n; c++) {
    predictedMeans[c] = a * qbar[c] + (c % 2 === 0 ? bx : by);
    residuals[c] = predictedMeans[c] - targetMeans[c];
    if (Number.isFinite(residuals[c])) {
      max = Math.max(max, Math.abs(residuals[c]));
      sq += residuals[c] ** 2;
    }
  }
  return {
    rule,
    faces,
    targetMeans: Float64Array.from(targetMeans),
    predictedMeans,
    residuals,
    maxAbsResidual: max,
    rmsResidual: Math.sqrt(sq / used),
  };
}

/** Gaussian elimination with partial pivoting for a 3 × 3 system. */
function solve3(A: number[][], r: number[]): [number, number, number] {
  const M = A.map((row, i) => [...row, r[i]]);
  for (let i = 0; i < 3; i++) {
    let p = i;
    for (let k = i + 1; k < 3; k++) if (Math.abs(M[k][i]) > Math.abs(M[p][i])) p = k;
    [M[i], M[p]] = [M[p], M[i]];
    if (Math.abs(M[i][i]) < 1e-12) return [NaN, NaN, NaN];
    for (let k = i + 1; k < 3; k++) {
      const f = M[k][i] / M[i][i];
      for (let j = i; j < 4; j++) M[k][j] -= f * M[i][j];
    }
  }
  const s = [0, 0, 0];
  for (let i = 2; i >= 0; i--) {
    let v = M[i][3];
    for (let j = i + 1; j < 3; j++) v -= M[i][j] * s[j];
    s[i] = v / M[i][i];
  }
  return [s[0], s[1], s[2]];
}
