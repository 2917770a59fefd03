import * as tf from '@tensorflow/tfjs';
import { ConfigError, type DetectorCropRule, type FaceBox, type FaceDetector, type RgbImage } from '@keypoints/core';

/*
 * The part of the face-api detector shared by the Node plugin (`face-api.detector.ts`, face-api's node-wasm
 * build) and the browser entry (`browser.ts`, a browser build of face-api): options, calibrated crop rules,
 * and detection with an edge-replicated border. No Node API here.
 */

/** Which of face-api's detectors: the tiny face detector (190 KB, fast) or SSD MobileNet v1 (5.4 MB). */
export type FaceApiModel = 'tiny' | 'ssd';

/** Options of {@link createFaceApiDetector}. */
export interface FaceApiDetectorOptions {
  /** Default `tiny`. */
  readonly model?: FaceApiModel;
  /** Minimum score of a face, default {@link DEFAULT_MIN_SCORE} (0.3). */
  readonly minScore?: number;
  /** Tiny detector input side (a multiple of 32), default 416. Ignored for `ssd`. */
  readonly inputSize?: number;
  /**
   * Border added on every side before detection, as a fraction of the photo's larger side (edge pixels
   * repeated), default {@link DEFAULT_PADDING} (0.5). Detectors at their defaults miss faces that fill the
   * picture (the P1 frames); the border makes them smaller relative to the input. Boxes are returned in
   * the unpadded photo's pixels. Measured on 200 P1 test photos (tiny, 416, min score 0.3): the labelled face
   * is found on 83.5 % without padding, 89.0 % with 0.25, 94.0 % with 0.5, 95.5 % with 0.75, and 97.5 % with
   * 0.5 and a retry at 1 ({@link retryPadding}, the default).
   */
  readonly padding?: number;
  /**
   * When nothing is found with {@link padding}, detect once more with this padding (a larger border finds
   * some of the remaining faces); default {@link DEFAULT_RETRY_PADDING} (1); `null`: no second try.
   */
  readonly retryPadding?: number | null;
}

/** Default {@link FaceApiDetectorOptions.minScore}. */
export const DEFAULT_MIN_SCORE = 0.3;
/** Default {@link FaceApiDetectorOptions.retryPadding}. */
export const DEFAULT_RETRY_PADDING = 1;
/** Default {@link FaceApiDetectorOptions.padding}. */
export const DEFAULT_PADDING = 0.5;

/**
 * Detector box → training crop for face-api's detectors (see `DetectorCropRule` in `@keypoints/core`),
 * calibrated on the P1 training photos by weighted least squares (crop centre and side against the true crop
 * that `DEFAULT_CROP_RULE` of `@keypoints/data` cuts around the 68 landmarks; `calibrateDetectorCrop`) with
 *
 * ```sh
 * npx tsx --conditions=@keypoints/source packages/inference/src/calibrate-detector-script.ts --split training --limit 400 --options '{"padding":0.5}'
 * npx tsx --conditions=@keypoints/source packages/inference/src/calibrate-detector-script.ts --split training --limit 200 --options '{"model":"ssd","padding":0.5}'
 * ```
 *
 * (`--limit N`: N training photos spread evenly over the rows sorted by file name.)
 * - `tiny` (416, min score 0.3, padding 0.5): 372 of 400 photos with the labelled face detected;
 *   `scale = 0.93563`, `offsetX = 0.03791`, `offsetY = −0.11610` (rounded below). Fit error in pixels of the
 *   96 × 96 crop (RMS over faces): centre x 3.90, centre y 4.33, side 6.99; mean IoU with the true crop 0.845.
 *   With padding 0.25 the fit is the same within 0.004 (`0.93900, 0.03733, −0.11653`, 349 faces): the box →
 *   crop mapping does not depend on the padding. The detector's box is a little larger than our crop
 *   (scale < 1) and centred lower (our crop includes the brows and stops above the chin).
 * - `ssd` (min score 0.3, padding 0.5, no retry), `--limit 200`: 175 of 200 found; `scale = 1.07679`,
 *   `offsetX = 0.04507`, `offsetY = −0.00425`; RMS error centre x 2.75, centre y 3.73, side 5.38 crop px; mean IoU
 *   0.875 (tighter boxes than tiny's, but fewer faces found and about 2.5 × slower).
 */
export const FACE_API_CROP_RULES: Readonly<Record<FaceApiModel, DetectorCropRule>> = Object.freeze({
  tiny: Object.freeze({ scale: 0.9356, offsetX: 0.0379, offsetY: -0.1161 }),
  ssd: Object.freeze({ scale: 1.0768, offsetX: 0.0451, offsetY: -0.0042 }),
});

/** The parts of `@vladmandic/face-api` this plugin uses (any of its builds). */
export interface FaceApiModule {
  readonly nets: {
    readonly tinyFaceDetector: FaceApiNet;
    readonly ssdMobilenetv1: FaceApiNet;
  };
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => unknown;
  SsdMobilenetv1Options: new (o: { minConfidence?: number; maxResults?: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): PromiseLike<Array<{ score: number; box: { x: number; y: number; width: number; height: number } }>>;
}
export interface FaceApiNet {
  readonly isLoaded: boolean;
  /** Node build only. */
  loadFromDisk?(dir: string): Promise<void>;
  /** Browser builds: the folder URL holding `<net>-weights_manifest.json`. */
  loadFromUri?(uri: string): Promise<void>;
  dispose(): void;
}

/**
 * Detect with a border of `round(fraction × max(width, height))` pixels on every side (edge pixels repeated),
 * boxes mapped back to the unpadded photo (edge coordinates), highest score first. Runs on the current tfjs
 * backend of the `@tensorflow/tfjs` face-api was built against.
 */
export async function detectWithPadding(
  api: FaceApiModule,
  image: RgbImage,
  fraction: number,
  model: FaceApiModel,
  minScore: number,
  inputSize: number,
): Promise<FaceBox[]> {
  const { input, pad } = edgePadded(image, fraction);
  try {
    const opts =
      model === 'tiny'
        ? new api.TinyFaceDetectorOptions({ inputSize, scoreThreshold: minScore })
        : new api.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: 100 });
    const found = await api.detectAllFaces(input, opts);
    return found
      .map((d) => ({ x: d.box.x - pad, y: d.box.y - pad, width: d.box.width, height: d.box.height, score: d.score }))
      .sort((a, b) => b.score - a.score);
  } finally {
    input.dispose();
  }
}

/**
 * `image` as an int32 `[H + 2·pad, W + 2·pad, 3]` tensor with a border of `pad = round(fraction × max(W, H))`
 * pixels made by edge replication (what the detectors see: faces filling the photo are found far more
 * often with a border). The caller disposes `input`; coordinates on it minus `pad` are the photo's.
 */
export function edgePadded(image: RgbImage, fraction: number): { input: tf.Tensor3D; pad: number } {
  const { width, height, data } = image;
  const pad = Math.round(fraction * Math.max(width, height));
  const input = tf.tidy(() => {
    const t = tf.tensor3d(Int32Array.from(data), [height, width, 3], 'int32');
    if (pad === 0) return t;
    // Edge replication: row/column indices clamped to the photo.
    const rows = Int32Array.from({ length: height + 2 * pad }, (_, i) => Math.min(height - 1, Math.max(0, i - pad)));
    const cols = Int32Array.from({ length: width + 2 * pad }, (_, i) => Math.min(width - 1, Math.max(0, i - pad)));
    return tf.gather(tf.gather(t, rows, 0), cols, 1) as tf.Tensor3D;
  });
  return { input, pad };
}

/**
 * The face-api detector over a loaded face-api module (`load` gives the module and the loaded net; the Node
 * plugin reads the weights from disk, the browser entry from a URL): options checked, padding and retry,
 * boxes in the photo's pixels. Weights load on the first `detect`.
 *
 * @throws {ConfigError} for an invalid option.
 */
export function makeFaceApiDetector(
  options: FaceApiDetectorOptions,
  load: (model: FaceApiModel) => Promise<{ api: FaceApiModule; net: FaceApiNet }>,
): FaceDetector {
  const model = options.model ?? 'tiny';
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const inputSize = options.inputSize ?? 416;
  const padding = options.padding ?? DEFAULT_PADDING;
  if (model !== 'tiny' && model !== 'ssd') throw new ConfigError(`face-api model must be 'tiny' or 'ssd', got '${String(model)}'`);
  if (!(minScore >= 0 && minScore <= 1)) throw new ConfigError(`minScore must be in [0, 1], got ${minScore}`);
  if (!Number.isInteger(inputSize) || inputSize < 32 || inputSize % 32 !== 0) throw new ConfigError(`inputSize must be a positive multiple of 32, got ${inputSize}`);
  if (!(padding >= 0 && padding <= 2)) throw new ConfigError(`padding must be in [0, 2], got ${padding}`);
  const retryPadding = options.retryPadding === undefined ? DEFAULT_RETRY_PADDING : (options.retryPadding ?? undefined);
  if (retryPadding !== undefined && !(retryPadding >= 0 && retryPadding <= 2)) throw new ConfigError(`retryPadding must be in [0, 2] or null, got ${retryPadding}`);
  let loaded: { api: FaceApiModule; net: FaceApiNet } | undefined;

  async function ensureLoaded(): Promise<{ api: FaceApiModule; net: FaceApiNet }> {
    loaded ??= await load(model);
    return loaded;
  }

  const detectPadded = (api: FaceApiModule, image: RgbImage, fraction: number): Promise<FaceBox[]> =>
    detectWithPadding(api, image, fraction, model, minScore, inputSize);

  return {
    name: model === 'tiny' ? 'face-api-tiny' : 'face-api-ssd',
    priority: model === 'tiny' ? 200 : 100,
    description: `@vladmandic/face-api ${model === 'tiny' ? 'tiny face detector' : 'SSD MobileNet v1'} (weights in the npm package), min score ${minScore}, padding ${padding}${retryPadding === undefined ? '' : ` (retry ${retryPadding})`}`,
    cropRule: FACE_API_CROP_RULES[model],
    async detect(image: RgbImage): Promise<FaceBox[]> {
      const { width, height, data } = image;
      if (!(width >= 1 && height >= 1) || data.length !== width * height * 3) {
        throw new ConfigError(`detect: expected ${width} × ${height} × 3 RGB bytes, got ${data.length}`);
      }
      const { api } = await ensureLoaded();
      const first = await detectPadded(api, image, padding);
      if (first.length > 0 || retryPadding === undefined) return first;
      return detectPadded(api, image, retryPadding);
    },
    dispose(): void {
      loaded?.net.dispose();
      loaded = undefined;
    },
  };
}

