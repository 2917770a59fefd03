import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ConfigError,
  FACE_DETECTORS,
  ModelIOError,
  type DependencyContainer,
  type DetectorCropRule,
  type FaceBox,
  type FaceDetector,
  type RgbImage,
} from '@keypoints/core';

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
   * repeated), default {@link DEFAULT_PADDING} (0.25). Detectors at their defaults miss faces that fill the
   * picture (the P1 frames); the border makes them smaller relative to the input. Boxes are returned in
   * the unpadded photo's pixels.
   */
  readonly padding?: number;
}

/** Default {@link FaceApiDetectorOptions.minScore}. */
export const DEFAULT_MIN_SCORE = 0.3;
/** Default {@link FaceApiDetectorOptions.padding}. */
export const DEFAULT_PADDING = 0.25;

/**
 * Detector box → training crop for face-api's detectors at the default settings above (tiny, 416, padding
 * 0.25), see `DetectorCropRule` in `@keypoints/core`. Calibrated on the P1 training photos by least squares
 * (crop centre and side against the true crop of `DEFAULT_CROP_RULE` from the 68 landmarks), with
 *
 * ```sh
 * npx tsx --conditions=@keypoints/source packages/inference/src/calibrate-detector.script.ts --detector @keypoints/detector-face-api --model tiny --limit 600
 * ```
 *
 * - `tiny` (416, min score 0.3, padding 0.25), `--limit 400` (400 training photos spread evenly over the sorted
 *   rows, 349 with the labelled face detected): `scale = 0.93900`, `offsetX = 0.03733`, `offsetY = −0.11653`
 *   (rounded below). Fit error, in pixels of the 96 × 96 crop: RMS centre x 3.83, centre y 3.82, side 7.75;
 *   mean IoU with the true crop 0.846. The detector box is a little larger than our crop (scale < 1) and
 *   centred lower (the crop includes the brows and stops above the chin).
 * - `ssd`: not calibrated yet (identity mapping).
 */
export const FACE_API_CROP_RULES: Readonly<Record<FaceApiModel, DetectorCropRule>> = Object.freeze({
  tiny: Object.freeze({ scale: 0.939, offsetX: 0.0373, offsetY: -0.1165 }),
  ssd: Object.freeze({ scale: 1, offsetX: 0, offsetY: 0 }),
});

/** The parts of `@vladmandic/face-api` this plugin uses. */
interface FaceApiModule {
  readonly nets: {
    readonly tinyFaceDetector: FaceApiNet;
    readonly ssdMobilenetv1: FaceApiNet;
  };
  TinyFaceDetectorOptions: new (o: { inputSize?: number; scoreThreshold?: number }) => unknown;
  SsdMobilenetv1Options: new (o: { minConfidence?: number; maxResults?: number }) => unknown;
  detectAllFaces(input: tf.Tensor3D, options: unknown): PromiseLike<Array<{ score: number; box: { x: number; y: number; width: number; height: number } }>>;
}
interface FaceApiNet {
  readonly isLoaded: boolean;
  loadFromDisk(dir: string): Promise<void>;
  dispose(): void;
}

const require = createRequire(import.meta.url);

/**
 * face-api's Node build that uses the host's `@tensorflow/tfjs` (and `@tensorflow/tfjs-backend-wasm`)
 * instead of a bundled copy: `dist/face-api.node-wasm.js` requires both, so its tensors live in the same
 * engine as our models, on whichever backend is current (wasm, cpu, node).
 */
function loadFaceApi(): { api: FaceApiModule; modelDir: string } {
  try {
    const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
    const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
    return { api, modelDir };
  } catch (error) {
    throw new ModelIOError(
      `cannot load @vladmandic/face-api (${(error as Error).message}); reinstall @keypoints/detector-face-api (npm install), or give the face boxes with --box`,
      { cause: error },
    );
  }
}

/**
 * A face detector over `@vladmandic/face-api`'s tiny face detector or SSD MobileNet v1, with the weights
 * shipped in that npm package (`model/`), run by the host's tfjs on its current backend. Weights load on
 * the first `detect`.
 *
 * @throws {ConfigError} for an invalid option.
 * @example
 * ```ts
 * const detector = createFaceApiDetector({ padding: 0.25 });
 * const faces = await detector.detect({ data: rgb, width, height }); // boxes in photo pixels
 * ```
 */
export function createFaceApiDetector(options: FaceApiDetectorOptions = {}): FaceDetector {
  const model = options.model ?? 'tiny';
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const inputSize = options.inputSize ?? 416;
  const padding = options.padding ?? DEFAULT_PADDING;
  if (model !== 'tiny' && model !== 'ssd') throw new ConfigError(`face-api model must be 'tiny' or 'ssd', got '${String(model)}'`);
  if (!(minScore >= 0 && minScore <= 1)) throw new ConfigError(`minScore must be in [0, 1], got ${minScore}`);
  if (!Number.isInteger(inputSize) || inputSize < 32 || inputSize % 32 !== 0) throw new ConfigError(`inputSize must be a positive multiple of 32, got ${inputSize}`);
  if (!(padding >= 0 && padding <= 2)) throw new ConfigError(`padding must be in [0, 2], got ${padding}`);
  let loaded: { api: FaceApiModule; net: FaceApiNet } | undefined;

  async function ensureLoaded(): Promise<{ api: FaceApiModule; net: FaceApiNet }> {
    if (loaded) return loaded;
    const { api, modelDir } = loadFaceApi();
    const net = model === 'tiny' ? api.nets.tinyFaceDetector : api.nets.ssdMobilenetv1;
    try {
      if (!net.isLoaded) await net.loadFromDisk(modelDir);
    } catch (error) {
      throw new ModelIOError(`cannot load face-api's ${model} detector weights from ${modelDir}: ${(error as Error).message}`, { cause: error });
    }
    loaded = { api, net };
    return loaded;
  }

  return {
    name: model === 'tiny' ? 'face-api-tiny' : 'face-api-ssd',
    priority: model === 'tiny' ? 200 : 100,
    description: `@vladmandic/face-api ${model === 'tiny' ? 'tiny face detector' : 'SSD MobileNet v1'} (weights in the npm package), min score ${minScore}, padding ${padding}`,
    cropRule: FACE_API_CROP_RULES[model],
    async detect(image: RgbImage): Promise<FaceBox[]> {
      const { width, height, data } = image;
      if (!(width >= 1 && height >= 1) || data.length !== width * height * 3) {
        throw new ConfigError(`detect: expected ${width} × ${height} × 3 RGB bytes, got ${data.length}`);
      }
      const { api } = await ensureLoaded();
      const pad = Math.round(padding * Math.max(width, height));
      const input = tf.tidy(() => {
        const t = tf.tensor3d(Int32Array.from(data), [height, width, 3], 'int32');
        if (pad === 0) return t;
        // Edge replication: row/column indices clamped to the photo.
        const rows = Int32Array.from({ length: height + 2 * pad }, (_, i) => Math.min(height - 1, Math.max(0, i - pad)));
        const cols = Int32Array.from({ length: width + 2 * pad }, (_, i) => Math.min(width - 1, Math.max(0, i - pad)));
        return tf.gather(tf.gather(t, rows, 0), cols, 1) as tf.Tensor3D;
      });
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
    },
    dispose(): void {
      loaded?.net.dispose();
      loaded = undefined;
    },
  };
}

/**
 * Register face-api's detector under `FACE_DETECTORS` (nothing is registered on import).
 *
 * @returns `container`, for chaining.
 */
export function registerFaceApiDetector(container: DependencyContainer, options: FaceApiDetectorOptions = {}): DependencyContainer {
  container.register(FACE_DETECTORS, { useValue: createFaceApiDetector(options) });
  return container;
}

/** Plugin factory (the module's default export): {@link createFaceApiDetector}. */
export default function createDetector(options: FaceApiDetectorOptions = {}): FaceDetector {
  return createFaceApiDetector(options);
}
