import { DEFAULT_MODEL_DIR } from '@keypoints/default-model';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import {
  ConfigError,
  DataFormatError,
  DataNotFoundError,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
  KAGGLE_KEYPOINTS,
  consoleLogger,
  type FaceDetector,
  type Logger,
} from '@keypoints/core';
import { cropFaceImage, type CropBox } from '@keypoints/data';
import { drawPhotoPrediction } from './draw.js';
import { cropForDetectorBox, cropForGivenBox, type BoxTuple } from './face-crop.js';
import { toFacePredictions, type FacePrediction } from './face-keypoints.js';
import { listPhotos, readPhoto, type Photo } from './photo.js';
import { loadPredictor, type KeypointPredictor } from './predictor.js';

export type { FacePrediction } from './face-keypoints.js';

/** One photo: the `--json` contract of `keypoints predict` is an array of these. */
export interface PhotoPrediction {
  /** The path as reached from the arguments (folder included). */
  readonly file: string;
  /** Photo columns (after EXIF orientation). */
  readonly width: number;
  /** Photo rows. */
  readonly height: number;
  /** Faces found (highest score first), or one per given box. */
  readonly faces: FacePrediction[];
}

/**
 * Boxes given instead of detection (pre-cropped faces): the same boxes for every photo, or per photo
 * (`undefined` → detect). Each box is used as the crop (see `cropForGivenBox`).
 */
export type GivenBoxes = readonly BoxTuple[] | ((file: string) => readonly BoxTuple[] | undefined);

/** Options of {@link predictPhotos}. */
export interface PredictPhotosOptions {
  /**
   * A run directory or a specialists folder (see `loadPredictor`); or pass {@link predictor}.
   * Default: the shipped model, `DEFAULT_MODEL_DIR` of `@keypoints/default-model`.
   */
  readonly model?: string;
  /** An already loaded predictor (not disposed here). */
  readonly predictor?: KeypointPredictor;
  /** tfjs backend for `model`. */
  readonly backend?: string;
  /** Finds the faces; needed unless {@link boxes} covers every photo. */
  readonly detector?: FaceDetector;
  /** Skip detection: use these boxes as the faces' crops. */
  readonly boxes?: GivenBoxes;
  /** Write each photo with boxes and keypoints drawn into this folder (`<name>.png`). */
  readonly drawDir?: string;
  /** Called after each photo. */
  readonly onPhoto?: (done: number, total: number, photo: PhotoPrediction) => void;
  readonly logger?: Logger;
}

/** Result of {@link predictPhotos}. */
export interface PredictPhotosResult {
  /** One entry per photo, in argument order (folders sorted). */
  readonly photos: PhotoPrediction[];
  /** Drawn PNGs, one per photo (empty without `drawDir`). */
  readonly drawn: string[];
  /** Faces over all photos. */
  readonly faces: number;
  /** Photos where no face was found. */
  readonly withoutFace: number;
}

/**
 * Photos in, keypoints out: read each photo (any size, colour or grey), find its faces with `detector` (or
 * take the given `boxes`), cut each face the way the training faces were cut (the detector's calibrated
 * `cropRule`, edge padding, lanczos3 to 96 × 96 grayscale), predict, and map the 15 keypoints back to the
 * photo's pixels.
 *
 * @param inputs image files and folders (a folder: every image in it, sorted; see `listPhotos`).
 * @throws {ConfigError} without `detector` for a photo with no given boxes.
 * @throws {DataNotFoundError | DataFormatError} for a missing or undecodable photo.
 * @example
 * ```ts
 * const detector = createFaceApiDetector(); // @keypoints/detector-face-api
 * const { photos } = await predictPhotos(['photo.jpg'], { model: 'runs/net6', detector });
 * photos[0].faces[0].keypoints.left_eye_center; // [x, y] in photo pixels
 * ```
 */
export async function predictPhotos(inputs: readonly string[], options: PredictPhotosOptions): Promise<PredictPhotosResult> {
  const logger = options.logger ?? consoleLogger;
  const files = await listPhotos(inputs);
  const boxesFor = (file: string): readonly BoxTuple[] | undefined =>
    options.boxes === undefined ? undefined : typeof options.boxes === 'function' ? options.boxes(file) : options.boxes;
  if (!options.detector) {
    const missing = files.find((f) => boxesFor(f) === undefined);
    if (missing !== undefined) throw new ConfigError(`no face detector and no box for ${missing}; register a detector or give --box`);
  }
  const predictor = options.predictor ?? (await loadPredictor(options.model ?? DEFAULT_MODEL_DIR, { backend: options.backend, logger }));
  const photos: PhotoPrediction[] = [];
  const drawn: string[] = [];
  const drawNames = new Set<string>();
  let faces = 0;
  let withoutFace = 0;
  try {
    for (const file of files) {
      const photo = await readPhoto(file);
      const given = boxesFor(file);
      const found: Array<{ box: BoxTuple; score: number; crop: CropBox }> = [];
      if (given !== undefined) {
        for (const b of given) found.push({ box: b, score: 1, crop: cropForGivenBox(b) });
      } else {
        const detector = options.detector!;
        for (const d of await detector.detect(photo.rgb)) {
          const box: BoxTuple = [d.x, d.y, d.width, d.height];
          found.push({ box, score: d.score, crop: cropForDetectorBox(box, detector.cropRule) });
        }
      }
      const prediction: PhotoPrediction = { file, width: photo.width, height: photo.height, faces: await predictCrops(photo, found, predictor) };
      photos.push(prediction);
      faces += prediction.faces.length;
      if (prediction.faces.length === 0) withoutFace++;
      if (options.drawDir !== undefined) {
        const out = join(options.drawDir, uniqueName(basename(file, extname(file)), drawNames) + '.png');
        await drawPhotoPrediction(file, prediction, out);
        drawn.push(out);
      }
      options.onPhoto?.(photos.length, files.length, prediction);
    }
  } finally {
    if (!options.predictor) predictor.dispose();
  }
  return { photos, drawn, faces, withoutFace };
}

function uniqueName(name: string, used: Set<string>): string {
  let n = name;
  for (let i = 2; used.has(n); i++) n = `${name}_${i}`;
  used.add(n);
  return n;
}

/**
 * Predict the faces of one photo from their crops.
 *
 * @param photo the decoded photo.
 * @param faces per face: its box (edge coordinates), score, and the crop to cut (photo pixels).
 * @returns one {@link FacePrediction} per face, same order, keypoints in photo pixels.
 */
export async function predictCrops(
  photo: Photo,
  faces: ReadonlyArray<{ box: BoxTuple; score: number; crop: CropBox }>,
  predictor: KeypointPredictor,
): Promise<FacePrediction[]> {
  if (faces.length === 0) return [];
  const images = new Float32Array(faces.length * IMAGE_PIXELS);
  for (let i = 0; i < faces.length; i++) {
    const pixels = await cropFaceImage(photo.grey, photo.width, photo.height, 1, faces[i].crop);
    for (let j = 0; j < IMAGE_PIXELS; j++) images[i * IMAGE_PIXELS + j] = pixels[j] / 255;
  }
  return toFacePredictions(faces, predictor.predict(images, faces.length));
}

/** Header of {@link photoPredictionsToCsv}: `file,face,box_x,box_y,box_w,box_h,score,` + the 30 Kaggle columns. */
export const PHOTO_CSV_HEADER: readonly string[] = ['file', 'face', 'box_x', 'box_y', 'box_w', 'box_h', 'score', ...KAGGLE_COLUMNS];

/**
 * One CSV row per face ({@link PHOTO_CSV_HEADER}; `face` is the face's index in its photo, keypoints in
 * photo pixels, empty where not predicted). Photos without a face have no row.
 */
export function photoPredictionsToCsv(photos: readonly PhotoPrediction[]): string {
  const lines = [PHOTO_CSV_HEADER.join(',')];
  for (const p of photos) {
    p.faces.forEach((f, i) => {
      const kp = KAGGLE_KEYPOINTS.flatMap((name) => {
        const v = f.keypoints[name];
        return v === null ? ['', ''] : [String(v[0]), String(v[1])];
      });
      lines.push([csvField(p.file), i, ...f.box, f.score, ...kp].join(','));
    });
  }
  return lines.join('\n') + '\n';
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Read a boxes file for {@link PredictPhotosOptions.boxes}: JSON, either `[[x, y, w, h], …]` (the same boxes
 * for every photo) or `{ "<file>": [[x, y, w, h], …], … }` keyed by the photo's path as reached from the
 * arguments, or by its file name (photos not listed are detected). Edge coordinates, photo pixels.
 *
 * @throws {DataNotFoundError} when the file cannot be read.
 * @throws {DataFormatError} when it is not such JSON.
 */
export async function readBoxesFile(file: string): Promise<GivenBoxes> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new DataNotFoundError(`boxes file ${file} not found`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DataFormatError({ file }, `not JSON: ${(error as Error).message}`, { cause: error });
  }
  const boxList = (v: unknown, where: string): BoxTuple[] => {
    if (!Array.isArray(v) || !v.every((b) => Array.isArray(b) && b.length === 4 && b.every((n) => typeof n === 'number' && Number.isFinite(n)) && b[2] > 0 && b[3] > 0)) {
      throw new DataFormatError({ file }, `${where}: expected an array of [x, y, width, height] boxes with positive width and height`);
    }
    return v as BoxTuple[];
  };
  if (Array.isArray(value)) return boxList(value, 'top level');
  if (value === null || typeof value !== 'object') throw new DataFormatError({ file }, 'expected [[x, y, w, h], …] or { "<file>": [[x, y, w, h], …] }');
  const map = new Map<string, BoxTuple[]>();
  for (const [k, v] of Object.entries(value)) map.set(k, boxList(v, `"${k}"`));
  return (photo: string) => map.get(photo) ?? map.get(basename(photo));
}

/** Parse `x,y,w,h` (numbers, edge coordinates in photo pixels; width and height > 0). */
export function parseBox(text: string): BoxTuple {
  const p = text.split(',').map((s) => Number(s.trim()));
  if (p.length !== 4 || !p.every(Number.isFinite) || !(p[2] > 0 && p[3] > 0)) {
    throw new ConfigError(`expected a box x,y,w,h (numbers, w and h > 0), got '${text}'`);
  }
  return [p[0], p[1], p[2], p[3]];
}

/** Write the `--json` contract (an array of {@link PhotoPrediction}), pretty-printed. */
export async function writePhotoPredictionsJson(file: string, photos: readonly PhotoPrediction[]): Promise<void> {
  await writeFile(file, JSON.stringify(photos, null, 2) + '\n');
}
