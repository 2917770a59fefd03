import { ConfigError } from './errors.js';
import type { DependencyContainer } from './di.js';
import { FACE_DETECTORS } from './tokens.js';

/**
 * A decoded photo as a face detector receives it: 8-bit RGB, row-major, no alpha.
 *
 * Pixel `(col, row)` is `data[(row × width + col) × 3 + channel]`. Coordinates derived from it are
 * **photo pixels** with the image's top-left corner at (0, 0) (box edges) — see {@link FaceBox}.
 */
export interface RgbImage {
  /** `[height × width × 3]` uint8, R, G, B per pixel. */
  readonly data: Uint8Array;
  /** Columns (≥ 1). */
  readonly width: number;
  /** Rows (≥ 1). */
  readonly height: number;
}

/**
 * One detected face: an axis-aligned box in **photo pixels**, edge coordinates (the photo spans
 * `[0, width] × [0, height]`; pixel `c` covers `[c, c + 1]`, so its centre — the keypoints' pixel-centre
 * convention — is at `c + 0.5` in this frame). It may extend past the photo.
 */
export interface FaceBox {
  /** Left edge, photo pixels. */
  readonly x: number;
  /** Top edge, photo pixels. */
  readonly y: number;
  /** Width, photo pixels (> 0). */
  readonly width: number;
  /** Height, photo pixels (> 0). */
  readonly height: number;
  /** Detector confidence in [0, 1]. */
  readonly score: number;
}

/**
 * How a detector's box becomes the square crop our training faces were cut with (the crop rule of
 * `@keypoints/data`, `DEFAULT_CROP_RULE`). With the box centre `(cx, cy)` and its size
 * `S = (width + height) / 2` (photo pixels), the crop square has side `scale × S` and centre
 * `(cx + offsetX × S, cy + offsetY × S)`. Detector-specific: each detector plugin states its own,
 * calibrated on photos whose true crops are known (see `calibrateDetectorCrop` in `@keypoints/inference`).
 */
export interface DetectorCropRule {
  /** Crop side as a multiple of the box size `S` (> 0). */
  readonly scale: number;
  /** Horizontal shift of the crop centre from the box centre, in units of `S` (+ = image right). */
  readonly offsetX: number;
  /** Vertical shift of the crop centre from the box centre, in units of `S` (+ = down). */
  readonly offsetY: number;
}

/** The identity mapping: the crop is the box's centred square of side `(width + height) / 2`. */
export const IDENTITY_CROP_RULE: DetectorCropRule = Object.freeze({ scale: 1, offsetX: 0, offsetY: 0 });

/**
 * A face-detector plugin (`@keypoints/detector-*`), registered under {@link FACE_DETECTORS}. Weights
 * ship inside an npm package, so detection works offline. Uses the tfjs backend that is current when
 * `detect` runs (the host initialises it first).
 */
export interface FaceDetector {
  /** Short name, e.g. `face-api-tiny`; what a host's `--detector` would take. */
  readonly name: string;
  /** Higher is preferred when the host names none. */
  readonly priority: number;
  /** One line for `--help` and logs. */
  readonly description: string;
  /** Detector box → training crop (calibrated for this detector and its settings). */
  readonly cropRule: DetectorCropRule;
  /**
   * Find the faces of one photo.
   *
   * @param image the whole photo, RGB.
   * @returns the faces, highest score first, boxes in the photo's pixels (see {@link FaceBox}).
   */
  detect(image: RgbImage): Promise<FaceBox[]>;
  /** Free the detector's model tensors (optional). */
  dispose?(): void;
}

/**
 * The detector named `name`, or the registered detector with the highest priority.
 *
 * @param container where detector plugins are registered under {@link FACE_DETECTORS}.
 * @throws {ConfigError} when none is registered, or none has that name (the message lists the names).
 */
export function resolveFaceDetector(container: DependencyContainer, name?: string): FaceDetector {
  const all = container.isRegistered(FACE_DETECTORS, true) ? container.resolveAll<FaceDetector>(FACE_DETECTORS) : [];
  if (all.length === 0) {
    throw new ConfigError('no face detector is registered; register one (e.g. registerFaceApiDetector from @keypoints/detector-face-api) or give the face boxes (--box)');
  }
  const sorted = [...all].sort((a, b) => b.priority - a.priority);
  if (name === undefined) return sorted[0];
  const found = sorted.find((d) => d.name === name);
  if (!found) throw new ConfigError(`no face detector named '${name}'; registered: ${sorted.map((d) => d.name).join(', ')}`);
  return found;
}
