import { KAGGLE_COLUMNS, KAGGLE_KEYPOINTS, type KeypointName } from '@keypoints/core';
import type { CropBox } from '@keypoints/data';
import { cropToPhotoPixels, type BoxTuple } from './face-crop.js';

/** One face of a photo, everything in the **original photo's pixels**. */
export interface FacePrediction {
  /** `[x, y, width, height]`: the detector's box, or the box given with `boxes`, edge coordinates (the photo spans `[0, W] × [0, H]`). */
  readonly box: [number, number, number, number];
  /** Detector confidence in [0, 1]; 1 for a given box. */
  readonly score: number;
  /** `[left, top, side]`: the square the face was cut from (pixel columns `left … left + side − 1`), then resized to 96 × 96. */
  readonly crop: [number, number, number];
  /**
   * The 15 Kaggle keypoints (`left_eye_center`, …, `mouth_center_bottom_lip`) as `[x, y]` in photo pixels,
   * pixel-centre convention (pixel column `c`'s centre is `x = c`), rounded to 0.001 px; `null` for a
   * keypoint the model does not predict. Left/right are the subject's.
   */
  readonly keypoints: Record<KeypointName, [number, number] | null>;
}

/**
 * The faces' model outputs → {@link FacePrediction}s (keypoints mapped back to photo pixels). Shared by the
 * Node path (`predictCrops`) and the browser entry.
 *
 * @param faces per face: box (edge coordinates), score, the crop it was cut from.
 * @param normalized `[faces × 30]` model output, `(crop px − 48) / 48`, Kaggle column order.
 */
export function toFacePredictions(
  faces: ReadonlyArray<{ box: BoxTuple; score: number; crop: CropBox }>,
  normalized: Float32Array | Float64Array,
): FacePrediction[] {
  const k = KAGGLE_COLUMNS.length;
  return faces.map((f, i) => {
    const px = cropToPhotoPixels(normalized.subarray(i * k, (i + 1) * k), f.crop);
    const keypoints = {} as Record<KeypointName, [number, number] | null>;
    KAGGLE_KEYPOINTS.forEach((name, j) => {
      const x = px[2 * j];
      const y = px[2 * j + 1];
      keypoints[name] = Number.isFinite(x) && Number.isFinite(y) ? [round3(x), round3(y)] : null;
    });
    return {
      box: [round3(f.box[0]), round3(f.box[1]), round3(f.box[2]), round3(f.box[3])],
      score: round3(f.score),
      crop: [f.crop.left, f.crop.top, f.crop.side],
      keypoints,
    };
  });
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
