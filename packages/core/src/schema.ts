import { ConfigError } from './errors.js';

/**
 * The Kaggle "Facial Keypoints Detection" keypoint schema.
 *
 * Kaggle's left/right are the **subject's**: `left_eye_center` appears on the
 * right-hand side of the image (x ≈ 66 px), `right_eye_center` on the left (x ≈ 30 px).
 */

/** The 15 Kaggle keypoints, in the order of the `training.csv` header. */
export const KAGGLE_KEYPOINTS = [
  'left_eye_center',
  'right_eye_center',
  'left_eye_inner_corner',
  'left_eye_outer_corner',
  'right_eye_inner_corner',
  'right_eye_outer_corner',
  'left_eyebrow_inner_end',
  'left_eyebrow_outer_end',
  'right_eyebrow_inner_end',
  'right_eyebrow_outer_end',
  'nose_tip',
  'mouth_left_corner',
  'mouth_right_corner',
  'mouth_center_top_lip',
  'mouth_center_bottom_lip',
] as const;

/** One of the 15 Kaggle keypoint names. */
export type KeypointName = (typeof KAGGLE_KEYPOINTS)[number];

/**
 * The 30 Kaggle keypoint columns (`<keypoint>_x`, `<keypoint>_y` for each keypoint),
 * in the exact order of the `training.csv` header. Index `2k` is the x of keypoint `k`,
 * `2k + 1` its y.
 */
export const KAGGLE_COLUMNS: readonly string[] = KAGGLE_KEYPOINTS.flatMap((k) => [`${k}_x`, `${k}_y`]);

/** The name of the pixel column in Kaggle's `training.csv` / `test.csv`. */
export const IMAGE_COLUMN = 'Image';
/** The id column of Kaggle's `test.csv`. */
export const IMAGE_ID_COLUMN = 'ImageId';
/** The extra column the landmark converter writes: the subject's identity (for grouped splits). */
export const IDENTITY_COLUMN = 'Identity';

/**
 * Keypoint-level left/right pairs that swap under a horizontal flip
 * (indices into {@link KAGGLE_KEYPOINTS}).
 */
export const KAGGLE_KEYPOINT_FLIP_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [0, 1], // eye centres
  [2, 4], // eye inner corners
  [3, 5], // eye outer corners
  [6, 8], // eyebrow inner ends
  [7, 9], // eyebrow outer ends
  [11, 12], // mouth corners
];

/**
 * A set of keypoint columns trained together (the full set, or a specialist group),
 * with the column pairs that swap under a horizontal flip.
 */
export interface KeypointSet {
  /** Short name, e.g. `full` or `eye_center`. */
  readonly name: string;
  /** Column names (a subset of {@link KAGGLE_COLUMNS}, in Kaggle order). */
  readonly columns: readonly string[];
  /**
   * Pairs of indices **into `columns`** that swap under a horizontal flip
   * (x with x, y with y). Nouri 2014, `FlipBatchIterator.flip_indices`.
   */
  readonly flipPairs: ReadonlyArray<readonly [number, number]>;
}

/**
 * Build a keypoint set from keypoint names (columns keep the given order); its flip pairs are derived from
 * {@link KAGGLE_KEYPOINT_FLIP_PAIRS} (pairs with only one side in the set are dropped).
 *
 * @throws {ConfigError} when a name is not a Kaggle keypoint.
 */
export function keypointSet(name: string, keypoints: readonly KeypointName[]): KeypointSet {
  const idx = keypoints.map((k) => {
    const i = KAGGLE_KEYPOINTS.indexOf(k);
    if (i < 0) throw new ConfigError(`Unknown keypoint '${k}'; expected one of ${KAGGLE_KEYPOINTS.join(', ')}`);
    return i;
  });
  const sorted = idx; // keep the caller's order (Nouri's specialist column order)
  const columns = sorted.flatMap((i) => [`${KAGGLE_KEYPOINTS[i]}_x`, `${KAGGLE_KEYPOINTS[i]}_y`]);
  const flipPairs: Array<[number, number]> = [];
  for (const [a, b] of KAGGLE_KEYPOINT_FLIP_PAIRS) {
    const ia = sorted.indexOf(a);
    const ib = sorted.indexOf(b);
    if (ia >= 0 && ib >= 0) {
      flipPairs.push([2 * ia, 2 * ib], [2 * ia + 1, 2 * ib + 1]);
    }
  }
  flipPairs.sort((p, q) => p[0] - q[0]);
  return Object.freeze({ name, columns: Object.freeze(columns), flipPairs: Object.freeze(flipPairs) });
}

/**
 * All 15 keypoints (30 columns). Flip pairs (column indices):
 * (0,2),(1,3),(4,8),(5,9),(6,10),(7,11),(12,16),(13,17),(14,18),(15,19),(22,24),(23,25).
 */
export const FULL_KEYPOINT_SET: KeypointSet = keypointSet('full', KAGGLE_KEYPOINTS);

/**
 * Nouri's six specialist groups (kfkd.py `SPECIALIST_SETTINGS`), each with its own flip pairs.
 */
export const SPECIALIST_KEYPOINT_SETS: readonly KeypointSet[] = [
  keypointSet('eye_center', ['left_eye_center', 'right_eye_center']),
  keypointSet('nose_tip', ['nose_tip']),
  keypointSet('mouth_corners_top_lip', ['mouth_left_corner', 'mouth_right_corner', 'mouth_center_top_lip']),
  keypointSet('mouth_bottom_lip', ['mouth_center_bottom_lip']),
  keypointSet('eye_corners', [
    'left_eye_inner_corner',
    'right_eye_inner_corner',
    'left_eye_outer_corner',
    'right_eye_outer_corner',
  ]),
  keypointSet('eyebrows', [
    'left_eyebrow_inner_end',
    'right_eyebrow_inner_end',
    'left_eyebrow_outer_end',
    'right_eyebrow_outer_end',
  ]),
];
