import {
  ConfigError,
  IMAGE_SIZE,
  KEYPOINT_CENTER,
  KEYPOINT_SCALE,
  type DetectorCropRule,
} from '@keypoints/core';
import type { CropBox } from '@keypoints/data';

/**
 * Units used here:
 * - **photo pixels**, pixel-centre convention (as in our data): pixel column `c` has its centre at
 *   `x = c`, so the photo spans `[−0.5, width − 0.5]`. Keypoints are reported in this frame.
 * - **box edges**: detector boxes (`FaceBox`, `--box`) use edge coordinates, the photo spanning
 *   `[0, width]`; a point at edge coordinate `e` is at `e − 0.5` in photo pixels.
 * - **crop pixels**: the 96 × 96 crop, pixel-centre convention (0..95).
 * - **normalized**: what models see, `(crop px − 48) / 48`.
 */

/** A box in edge coordinates of the photo (see the units above): `[x, y, width, height]`. */
export type BoxTuple = readonly [x: number, y: number, width: number, height: number];

/**
 * The square training crop for a detector box, placed as `DetectorCropRule` says and rounded to whole
 * pixels the way `cropBoxFor` (`@keypoints/data`) rounds the crops of the training faces: side
 * `max(1, round(scale × S))` with `S = (width + height) / 2`, left column `round(cx − scale × S / 2)` with
 * `cx` the crop centre in photo pixels.
 *
 * @param box `[x, y, width, height]` detector box, edge coordinates (photo pixels).
 * @param rule the detector's calibrated mapping.
 * @returns the crop: pixels `left … left + side − 1` × `top … top + side − 1` (may extend past the photo).
 * @throws {ConfigError} for a box without positive finite size.
 */
export function cropForDetectorBox(box: BoxTuple, rule: DetectorCropRule): CropBox {
  const [x, y, w, h] = box;
  if (![x, y, w, h].every(Number.isFinite) || !(w > 0 && h > 0)) throw new ConfigError(`face box must be finite with positive size, got [${box.join(', ')}]`);
  const s = (w + h) / 2;
  const exact = rule.scale * s;
  // Centre in photo pixels (pixel-centre convention): edge coordinate − 0.5.
  const cx = x + w / 2 - 0.5 + rule.offsetX * s;
  const cy = y + h / 2 - 0.5 + rule.offsetY * s;
  return { left: Math.round(cx - exact / 2), top: Math.round(cy - exact / 2), side: Math.max(1, Math.round(exact)) };
}

/**
 * The crop for a box given by the user (`--box`, a pre-cropped face): the box itself when square, else the
 * square of side `max(width, height)` with the same centre; corner and side rounded to whole pixels.
 *
 * @param box `[x, y, width, height]`, edge coordinates (photo pixels); `[0, 0, 96, 96]` on a Kaggle-style
 *   96 × 96 face is the identity.
 * @throws {ConfigError} for a box without positive finite size.
 */
export function cropForGivenBox(box: BoxTuple): CropBox {
  const [x, y, w, h] = box;
  if (![x, y, w, h].every(Number.isFinite) || !(w > 0 && h > 0)) throw new ConfigError(`--box must be finite with positive size, got [${box.join(', ')}]`);
  const side = Math.max(1, Math.round(Math.max(w, h)));
  return { left: Math.round(x + w / 2 - side / 2), top: Math.round(y + h / 2 - side / 2), side };
}

/**
 * Normalized crop keypoints → photo pixels: `u = 48 × n + 48` (crop pixels), then
 * `p = (u + 0.5) × side / 96 − 0.5 + left` (the inverse of `toCropPixels` in `@keypoints/data`).
 *
 * @param normalized `[30]` (or any even length) interleaved x, y, normalized `(u − 48) / 48`; `NaN` stays `NaN`.
 * @param crop the crop they were predicted on, photo pixels.
 * @returns a new array of the same length, photo pixels (pixel-centre convention).
 */
export function cropToPhotoPixels(normalized: ArrayLike<number>, crop: CropBox): Float64Array {
  const f = crop.side / IMAGE_SIZE;
  const out = new Float64Array(normalized.length);
  for (let i = 0; i < normalized.length; i += 2) {
    const u = normalized[i] * KEYPOINT_SCALE + KEYPOINT_CENTER;
    const v = normalized[i + 1] * KEYPOINT_SCALE + KEYPOINT_CENTER;
    out[i] = (u + 0.5) * f - 0.5 + crop.left;
    out[i + 1] = (v + 0.5) * f - 0.5 + crop.top;
  }
  return out;
}

/**
 * Photo pixels → normalized crop coordinates, the inverse of {@link cropToPhotoPixels}.
 *
 * @param xy interleaved x, y in photo pixels (pixel-centre convention).
 * @param crop the crop.
 * @returns a new array, normalized `(u − 48) / 48`.
 */
export function photoToCropNormalized(xy: ArrayLike<number>, crop: CropBox): Float64Array {
  const f = IMAGE_SIZE / crop.side;
  const out = new Float64Array(xy.length);
  for (let i = 0; i < xy.length; i += 2) {
    out[i] = ((xy[i] - crop.left + 0.5) * f - 0.5 - KEYPOINT_CENTER) / KEYPOINT_SCALE;
    out[i + 1] = ((xy[i + 1] - crop.top + 0.5) * f - 0.5 - KEYPOINT_CENTER) / KEYPOINT_SCALE;
  }
  return out;
}
