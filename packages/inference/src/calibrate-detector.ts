import { ConfigError, IMAGE_SIZE, type DetectorCropRule, type FaceBox, type FaceDetector } from '@keypoints/core';
import { DEFAULT_CROP_RULE, landmarkBox, type CropRule, type LandmarkRecord } from '@keypoints/data';
import type { BoxTuple } from './face-crop.js';
import { readPhoto } from './photo.js';

/** A photo's detector box next to its true landmarks (for {@link calibrateDetectorCrop}). */
export interface CalibrationFace {
  /** The detector's box for the labelled face, `[x, y, w, h]` edge coordinates, photo pixels. */
  readonly box: BoxTuple;
  /** `[136]` the face's 68 iBUG landmarks, photo pixels (pixel-centre convention). */
  readonly points: ArrayLike<number>;
}

/** Result of {@link calibrateDetectorCrop}. */
export interface DetectorCalibration {
  /** The fitted mapping (full precision). */
  readonly rule: DetectorCropRule;
  /** Faces used. */
  readonly faces: number;
  /**
   * RMS over faces of the fitted crop's error against the true crop, in pixels of the 96 × 96 crop (error
   * in photo pixels × 96 / true side): centre x, centre y, side.
   */
  readonly rmsCropPx: { readonly x: number; readonly y: number; readonly side: number };
  /** Mean intersection over union of the fitted and the true crop squares. */
  readonly meanIoU: number;
}

/**
 * Fit a detector's box → training-crop mapping (`DetectorCropRule`) to the true crops of labelled photos.
 *
 * The true crop of a face is the continuous square of `cropRule` (default `DEFAULT_CROP_RULE`, how the training
 * faces were cut) around its 68 landmarks: side `T = scale × S_lm`, centre `c_lm + offset × S_lm`. With the
 * detector box's size `S = (w + h) / 2` and centre `b` (photo pixels), the model is `T ≈ k × S`,
 * `c ≈ b + o × S`; each of `k`, `o_x`, `o_y` is a weighted least-squares fit (closed form) with weights
 * `1 / T²`, i.e. errors measured relative to the face's size, as they show in the 96 × 96 crop.
 *
 * @throws {ConfigError} with no faces.
 */
export function calibrateDetectorCrop(faces: readonly CalibrationFace[], cropRule: CropRule = DEFAULT_CROP_RULE): DetectorCalibration {
  if (faces.length === 0) throw new ConfigError('calibrateDetectorCrop needs at least one face');
  const rows = faces.map((f) => {
    const lm = landmarkBox(f.points);
    const [x, y, w, h] = f.box;
    const s = (w + h) / 2;
    return {
      s,
      bx: x + w / 2 - 0.5,
      by: y + h / 2 - 0.5,
      tx: lm.cx + cropRule.offsetX * lm.size,
      ty: lm.cy + cropRule.offsetY * lm.size,
      side: cropRule.scale * lm.size,
    };
  });
  let sss = 0;
  let sx = 0;
  let sy = 0;
  let sk = 0;
  for (const r of rows) {
    const wgt = 1 / (r.side * r.side);
    sss += wgt * r.s * r.s;
    sx += wgt * (r.tx - r.bx) * r.s;
    sy += wgt * (r.ty - r.by) * r.s;
    sk += wgt * r.side * r.s;
  }
  const rule: DetectorCropRule = { scale: sk / sss, offsetX: sx / sss, offsetY: sy / sss };
  let ex = 0;
  let ey = 0;
  let es = 0;
  let iou = 0;
  for (const r of rows) {
    const f = IMAGE_SIZE / r.side;
    const cx = r.bx + rule.offsetX * r.s;
    const cy = r.by + rule.offsetY * r.s;
    const side = rule.scale * r.s;
    ex += ((cx - r.tx) * f) ** 2;
    ey += ((cy - r.ty) * f) ** 2;
    es += ((side - r.side) * f) ** 2;
    iou += squareIoU(cx, cy, side, r.tx, r.ty, r.side);
  }
  const n = rows.length;
  return { rule, faces: n, rmsCropPx: { x: Math.sqrt(ex / n), y: Math.sqrt(ey / n), side: Math.sqrt(es / n) }, meanIoU: iou / n };
}

function squareIoU(ax: number, ay: number, as: number, bx: number, by: number, bs: number): number {
  const ix = Math.max(0, Math.min(ax + as / 2, bx + bs / 2) - Math.max(ax - as / 2, bx - bs / 2));
  const iy = Math.max(0, Math.min(ay + as / 2, by + bs / 2) - Math.max(ay - as / 2, by - bs / 2));
  const inter = ix * iy;
  return inter / (as * as + bs * bs - inter);
}

/** Result of {@link detectionRate}. */
export interface DetectionRate {
  /** Photos tried. */
  readonly photos: number;
  /** Photos where some box's centre lies inside the labelled face's landmark box. */
  readonly detected: number;
  /** `detected / photos`. */
  readonly rate: number;
  /** Per photo (same order): the best-scoring box on the labelled face, or `undefined`. */
  readonly boxes: ReadonlyArray<FaceBox | undefined>;
}

/**
 * Run a detector over labelled photos and count those where it finds the labelled face (a box whose centre
 * lies inside the bounding box of the 68 landmarks).
 *
 * @param detector the detector (its tfjs backend initialised).
 * @param records labelled photos (`readLandmarkCsv` from `@keypoints/data`).
 */
export async function detectionRate(
  detector: FaceDetector,
  records: readonly LandmarkRecord[],
  onPhoto?: (done: number, total: number) => void,
): Promise<DetectionRate> {
  const boxes: Array<FaceBox | undefined> = [];
  for (const r of records) {
    const photo = await readPhoto(r.imagePath);
    const lm = landmarkBox(r.points);
    const onFace = (await detector.detect(photo.rgb)).filter((b) => {
      const cx = b.x + b.width / 2 - 0.5;
      const cy = b.y + b.height / 2 - 0.5;
      return cx >= lm.minX && cx <= lm.maxX && cy >= lm.minY && cy <= lm.maxY;
    });
    boxes.push(onFace.sort((a, b) => b.score - a.score)[0]);
    onPhoto?.(boxes.length, records.length);
  }
  const detected = boxes.filter((b) => b !== undefined).length;
  return { photos: records.length, detected, rate: records.length > 0 ? detected / records.length : 0, boxes };
}
