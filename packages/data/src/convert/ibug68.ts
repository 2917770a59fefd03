import { KAGGLE_KEYPOINTS, type KeypointName } from '@keypoints/core';

/**
 * The iBUG 300-W 68-point landmark layout (0-based point index `k`; CSV columns `2k`, `2k + 1`):
 * 0–16 jaw, 17–21 right brow, 22–26 left brow, 27–35 nose, 36–41 right eye, 42–47 left eye,
 * 48–67 mouth. "Right"/"left" are the **subject's**, as in Kaggle: the subject's right eye
 * (36–41) is on the image's left-hand side.
 */
export const IBUG68_POINT_COUNT = 68;

/**
 * Which iBUG-68 points (0-based) make each Kaggle keypoint; a keypoint with several points is
 * their mean. Kaggle's left/right are the subject's, so `left_eye_center` (image right-hand
 * side, x ≈ 66 px) is the mean of 42–47.
 */
export const IBUG68_TO_KAGGLE: Readonly<Record<KeypointName, readonly number[]>> = Object.freeze({
  left_eye_center: [42, 43, 44, 45, 46, 47],
  right_eye_center: [36, 37, 38, 39, 40, 41],
  left_eye_inner_corner: [42],
  left_eye_outer_corner: [45],
  right_eye_inner_corner: [39],
  right_eye_outer_corner: [36],
  left_eyebrow_inner_end: [22],
  left_eyebrow_outer_end: [26],
  right_eyebrow_inner_end: [21],
  right_eyebrow_outer_end: [17],
  nose_tip: [30],
  mouth_left_corner: [54],
  mouth_right_corner: [48],
  mouth_center_top_lip: [51],
  mouth_center_bottom_lip: [57],
});

/**
 * Map one face's 68 iBUG landmarks to the 15 Kaggle keypoints, in the same pixel frame.
 *
 * @param points `[136]` = `x0, y0, x1, y1, …, x67, y67` (any pixel frame; typically the source image's).
 * @returns `[30]` in Kaggle column order (`KAGGLE_COLUMNS`: x, y per keypoint), same frame and
 *   units as the input. A keypoint whose points include a `NaN` is `NaN`.
 * @throws {RangeError} when `points` does not hold 136 values.
 */
export function ibug68ToKaggle(points: ArrayLike<number>): Float64Array {
  if (points.length !== 2 * IBUG68_POINT_COUNT) {
    throw new RangeError(`expected ${2 * IBUG68_POINT_COUNT} landmark coordinates, got ${points.length}`);
  }
  const out = new Float64Array(2 * KAGGLE_KEYPOINTS.length);
  KAGGLE_KEYPOINTS.forEach((name, j) => {
    const idx = IBUG68_TO_KAGGLE[name];
    let x = 0;
    let y = 0;
    for (const k of idx) {
      x += points[2 * k];
      y += points[2 * k + 1];
    }
    out[2 * j] = x / idx.length;
    out[2 * j + 1] = y / idx.length;
  });
  return out;
}
