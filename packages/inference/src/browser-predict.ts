import * as tf from '@tensorflow/tfjs';
import { ConfigError, IMAGE_PIXELS, IMAGE_SIZE, KAGGLE_COLUMNS, type DetectorCropRule, type FaceBox } from '@keypoints/core';
import type { CropBox } from '@keypoints/data';
import { cropForDetectorBox, cropForGivenBox, type BoxTuple } from './face-crop.js';
import { cropGreyFace, toGrey } from './crop-pixels.js';
import { toFacePredictions, type FacePrediction } from './face-keypoints.js';

/** An image already decoded in the browser: canvas `ImageData` (RGBA) or any such `{ data, width, height }`. */
export interface DecodedImage {
  readonly data: Uint8ClampedArray | Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** A face to predict: a detector box with its score, or a box given as the crop (`given: true`, as `--box`). */
export interface FaceToPredict {
  readonly box: BoxTuple;
  readonly score?: number;
  /** The box is the crop itself (pre-cropped face), not a detector box. */
  readonly given?: boolean;
}

/**
 * Load a keypoint model saved in the tfjs layers format (the shipped default model's `model/model.json`,
 * a run's `model/`) with stock `tf.loadLayersModel`: every model this project saves uses stock classes only.
 *
 * @param url `…/model.json` (fetched with the browser's `fetch`), or any tfjs IO handler.
 */
export async function loadKeypointModel(url: string | tf.io.IOHandler): Promise<tf.LayersModel> {
  const model = await tf.loadLayersModel(url);
  const out = model.outputs[0].shape;
  if (out[out.length - 1] !== KAGGLE_COLUMNS.length) {
    throw new ConfigError(`expected a model with ${KAGGLE_COLUMNS.length} outputs (the 15 keypoints), got ${JSON.stringify(out)}`);
  }
  return model;
}

/** Options of {@link predictImageFaces}. */
export interface PredictImageFacesOptions {
  /** The detector's calibrated box → crop rule (e.g. `FACE_API_CROP_RULES.tiny`); needed for detector boxes. */
  readonly cropRule?: DetectorCropRule;
  /** The photo already as 8-bit grey (`toGrey`), when the caller has it; else made from `image`. */
  readonly grey?: Uint8Array;
}

/**
 * Keypoints of the faces of a decoded image, in the browser (or anywhere, no Node API): each face is cut as
 * the training faces were (the detector's calibrated crop rule, `cropForDetectorBox`, the same code as
 * `predictPhotos`; edge padding; lanczos3 to 96 × 96 grey, `cropGreyFace`), run through `model`, and the 15
 * keypoints mapped back to the image's pixels.
 *
 * @param model a loaded keypoint model (`loadKeypointModel`): `[n, 96, 96, 1]` in [0, 1] → `[n, 30]` normalized.
 * @param image RGBA pixels (canvas `getImageData`).
 * @param faces detector boxes (`FaceBox` or `{ box, score }`), edge coordinates.
 * @returns one {@link FacePrediction} per face, same order (the `faces` of `keypoints predict --json`).
 * @throws {ConfigError} for a detector box without `cropRule`, or an image whose size does not match its data.
 */
export function predictImageFaces(
  model: tf.LayersModel,
  image: DecodedImage,
  faces: ReadonlyArray<FaceToPredict | FaceBox>,
  options: PredictImageFacesOptions = {},
): FacePrediction[] {
  const { width, height } = image;
  if (image.data.length !== width * height * 4) throw new ConfigError(`expected ${width} × ${height} RGBA pixels, got ${image.data.length} bytes`);
  if (faces.length === 0) return [];
  const grey = options.grey ?? toGrey(image.data, width, height, 4);
  const found = faces.map((f): { box: BoxTuple; score: number; crop: CropBox } => {
    const isBox = 'box' in f;
    const box: BoxTuple = isBox ? f.box : [f.x, f.y, f.width, f.height];
    const score = isBox ? (f.score ?? 1) : f.score;
    if (isBox && f.given) return { box, score, crop: cropForGivenBox(box) };
    if (!options.cropRule) throw new ConfigError('predictImageFaces: a detector box needs the detector\'s cropRule');
    return { box, score, crop: cropForDetectorBox(box, options.cropRule) };
  });
  const images = new Float32Array(found.length * IMAGE_PIXELS);
  found.forEach((f, i) => {
    const pixels = cropGreyFace(grey, width, height, f.crop);
    for (let j = 0; j < IMAGE_PIXELS; j++) images[i * IMAGE_PIXELS + j] = pixels[j] / 255;
  });
  const normalized = tf.tidy(() => {
    const x = tf.tensor4d(images, [found.length, IMAGE_SIZE, IMAGE_SIZE, 1]);
    return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  });
  return toFacePredictions(found, normalized);
}
