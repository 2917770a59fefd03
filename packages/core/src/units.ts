/** Side of a Kaggle face image in pixels (images are `IMAGE_SIZE × IMAGE_SIZE`, grayscale). */
export const IMAGE_SIZE = 96;
/** Number of pixels of one image: 96 × 96 = 9216. */
export const IMAGE_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** Centre and half-extent used to normalise keypoints: `(px − 48) / 48`. */
export const KEYPOINT_CENTER = 48;
/** See {@link KEYPOINT_CENTER}. */
export const KEYPOINT_SCALE = 48;

/**
 * Pixels → normalized keypoint coordinate, `(px − 48) / 48` (Nouri 2014, `load()`).
 * `NaN` stays `NaN`. A value in [0, 96] maps to [−1, 1].
 */
export function toNormalized(px: number): number {
  return (px - KEYPOINT_CENTER) / KEYPOINT_SCALE;
}

/** Normalized keypoint coordinate → pixels, `v × 48 + 48`. Inverse of {@link toNormalized}. */
export function toPixels(v: number): number {
  return v * KEYPOINT_SCALE + KEYPOINT_CENTER;
}

/**
 * RMSE in pixels from a mean squared error in normalized units: `sqrt(mse) × 48`
 * (Nouri 2014's convention for reporting).
 */
export function rmsePixelsFromMse(mse: number): number {
  return Math.sqrt(mse) * KEYPOINT_SCALE;
}

/** Pixel intensity 0..255 → model input in [0, 1] (`X / 255`). */
export function toIntensity(pixel: number): number {
  return pixel / 255;
}
