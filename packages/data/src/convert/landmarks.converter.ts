import { access } from 'node:fs/promises';
import sharp from 'sharp';
import {
  ConfigError,
  DataFormatError,
  DataNotFoundError,
  IMAGE_PIXELS,
  IMAGE_SIZE,
  KAGGLE_COLUMNS,
} from '@keypoints/core';
import { writeKaggleCsv, type WriteKaggleCsvResult } from '../kaggle-csv.writer.js';
import { DEFAULT_CROP_RULE, landmarksToKaggleKeypoints, type CropBox, type CropRule } from './crop-rule.js';
import { assertDirectory, readLandmarkCsv, type LandmarkRecord } from './landmark-csv.js';

/** Default number of images converted at the same time. */
export const DEFAULT_CONVERT_CONCURRENCY = 2;

/** Options shared by {@link convertLandmarkRecords} and {@link convertLandmarkFolder}. */
export interface ConvertLandmarksOptions {
  /** Crop rule; default {@link DEFAULT_CROP_RULE} (calibrated on Kaggle's mean keypoints). */
  readonly rule?: CropRule;
  /** Images converted at the same time (≥ 1), default 2. */
  readonly concurrency?: number;
  /** Called after each converted image with `(done, total)`. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One converted face. */
export interface ConvertedFace {
  /** `[30]` Kaggle column order, pixels of the 96 × 96 output (may fall slightly outside 0..96). */
  readonly keypoints: Float64Array;
  /** `[9216]` row-major 96 × 96 grayscale, 0..255. */
  readonly pixels: Uint8Array;
  /** The crop in source pixels. */
  readonly box: CropBox;
  /** True when the crop extended past the source image and was padded. */
  readonly padded: boolean;
}

/**
 * Converted faces as a Kaggle-format table in pixels (what `writeKaggleCsv` takes; shaped like `KeypointTable`).
 */
export interface ConvertedLandmarks {
  /** Number of faces. */
  readonly count: number;
  /** The 30 `KAGGLE_COLUMNS`. */
  readonly columns: readonly string[];
  /** `[count, 30]` float32 pixels of the 96 × 96 output. */
  readonly keypoints: Float32Array;
  /** `[count, 9216]` uint8 0..255. */
  readonly images: Uint8Array;
  /** Subject of each face (file name without `_NN` and extension). */
  readonly identities: readonly string[];
  /** Source file name of each face (as in the CSV). */
  readonly names: readonly string[];
  /** Crop of each face, source pixels. */
  readonly boxes: readonly CropBox[];
  /** Faces whose crop extended past the source image (edge-padded). */
  readonly paddedCount: number;
}

/**
 * Convert one face: decode its image as 8-bit grayscale, cut the square crop of the crop rule, resize it
 * to 96 × 96, and map its 68 landmarks to the 15 Kaggle keypoints in the output frame.
 *
 * - Grayscale: the image is decoded by content (the P1 files are PNG despite their `.jpg` names); alpha
 *   is dropped; a colour image is converted with libvips' `b-w` colourspace (grayscale input is kept as is).
 * - Padding rule: where the crop extends past the image, the **nearest edge pixel is repeated** (edge
 *   replication, no black borders).
 * - Resize: pixel-centre aligned (see {@link cropFaceImage}: sharp/libvips `lanczos3` to shrink, a centre-aligned
 *   Catmull-Rom cubic to enlarge); keypoints use the same convention (`u = (p − left + 0.5) × 96 / side − 0.5`).
 *
 * @param record one CSV row (`readLandmarkCsv`).
 * @param rule default {@link DEFAULT_CROP_RULE}.
 * @throws {DataNotFoundError} when the image file does not exist (the message names the image, the CSV and its line).
 * @throws {DataFormatError} when the image cannot be decoded.
 */
export async function convertLandmarkImage(
  record: LandmarkRecord,
  rule: CropRule = DEFAULT_CROP_RULE,
): Promise<ConvertedFace> {
  try {
    await access(record.imagePath);
  } catch (error) {
    throw new DataNotFoundError(
      `image file ${record.imagePath} not found (named in ${record.file}, line ${record.line}, column 1 (file name))`,
      { cause: error },
    );
  }
  let data: Buffer;
  let width: number;
  let height: number;
  let channels: number;
  try {
    const decoded = await sharp(record.imagePath).removeAlpha().greyscale().raw().toBuffer({ resolveWithObject: true });
    data = decoded.data;
    ({ width, height, channels } = decoded.info);
  } catch (error) {
    throw new DataFormatError(
      { file: record.imagePath },
      `cannot decode image (named in ${record.file}, line ${record.line}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { keypoints, box } = landmarksToKaggleKeypoints(record.points, rule);
  const padded = box.left < 0 || box.top < 0 || box.left + box.side > width || box.top + box.side > height;
  const pixels = await cropFaceImage(data, width, height, channels, box);
  return { keypoints, pixels, box, padded };
}

/**
 * Cut a square crop out of a decoded 8-bit image and resize it to 96 × 96 grayscale, exactly as the
 * training faces were made: pixels outside the image repeat the nearest edge pixel; the crop is resized
 * pixel-centre aligned, so a source point `p` lands at `u = (p − left + 0.5) × 96 / side − 0.5` (see
 * `toCropPixels`), where the keypoints are put:
 *
 * - shrinking (`side > 96`): sharp/libvips `lanczos3` (its `reduce` is centre aligned);
 * - enlarging (`side < 96`): a separable Catmull-Rom cubic (libvips' bicubic; vertical pass, rounded to bytes,
 *   then horizontal), output pixel `o` centred on input `(o + 0.5) × side / 96 − 0.5` ({@link enlargeCentred}).
 *   Not sharp: libvips' `resize` enlarges with its affine transform, which puts the content **half an output
 *   pixel right of and below** the centre-aligned position (measured with sharp 0.34.5 / libvips 8.17.3: a blob
 *   lands +0.50 px off at every side from 40 to 95), so before this the keypoints of every enlarged crop (2330 of
 *   the 3804 P1 faces; median crop side 86 px) sat 0.5 crop px up and left of their features;
 * - `side = 96`: the crop as it is.
 *
 * @param data decoded image, row-major, `channels` bytes per pixel; only the first channel is read
 *   (pass grayscale: sharp `.removeAlpha().greyscale()`).
 * @param width image columns.
 * @param height image rows.
 * @param channels bytes per pixel (≥ 1).
 * @param box the crop, source pixels (may extend past the image).
 * @returns `[9216]` row-major 96 × 96 grayscale, 0..255.
 */
export async function cropFaceImage(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  box: CropBox,
): Promise<Uint8Array> {
  const crop = cropWithEdgePadding(data, width, height, channels, box);
  if (box.side < IMAGE_SIZE) return enlargeCentred(crop, box.side, IMAGE_SIZE);
  const resized = await sharp(crop, { raw: { width: box.side, height: box.side, channels: 1 } })
    .resize(IMAGE_SIZE, IMAGE_SIZE, { kernel: 'lanczos3', fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Uint8Array(IMAGE_PIXELS);
  const ch = resized.info.channels;
  for (let i = 0; i < IMAGE_PIXELS; i++) pixels[i] = resized.data[i * ch];
  return pixels;
}

/** Catmull-Rom cubic (a = −0.5), libvips' bicubic interpolator. */
function catmullRom(x: number): number {
  const a = Math.abs(x);
  if (a < 1) return 1.5 * a * a * a - 2.5 * a * a + 1;
  if (a < 2) return -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2;
  return 0;
}

/**
 * Enlarge a `side × side` 8-bit image to `size × size` (`side < size`), pixel-centre aligned: output pixel `o`
 * is the Catmull-Rom interpolation at input `(o + 0.5) × side / size − 0.5` (indices clamped to the image, i.e.
 * its edge pixels repeated). Vertical pass first, rounded to bytes, then horizontal, as libvips does for 8-bit
 * images. Pure JavaScript, so its output does not depend on the libvips version.
 */
export function enlargeCentred(input: Uint8Array, side: number, size: number = IMAGE_SIZE): Uint8Array {
  if (!(Number.isInteger(side) && Number.isInteger(size) && side >= 1 && side < size)) {
    throw new RangeError(`enlargeCentred needs integer 1 ≤ side < size, got side ${side}, size ${size}`);
  }
  if (input.length < side * side) throw new RangeError(`expected ${side * side} pixels, got ${input.length}`);
  const scale = side / size;
  const taps: Array<{ index: Int32Array; weight: Float64Array }> = [];
  for (let o = 0; o < size; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const first = Math.floor(centre) - 1;
    const index = new Int32Array(4);
    const weight = new Float64Array(4);
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      const i = first + k;
      index[k] = Math.min(side - 1, Math.max(0, i));
      weight[k] = catmullRom(i - centre);
      sum += weight[k];
    }
    for (let k = 0; k < 4; k++) weight[k] /= sum;
    taps.push({ index, weight });
  }
  const mid = new Uint8Array(size * side);
  for (let o = 0; o < size; o++) {
    const { index, weight } = taps[o];
    for (let x = 0; x < side; x++) {
      let acc = 0;
      for (let k = 0; k < 4; k++) acc += weight[k] * input[index[k] * side + x];
      mid[o * side + x] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let o = 0; o < size; o++) {
      const { index, weight } = taps[o];
      let acc = 0;
      for (let k = 0; k < 4; k++) acc += weight[k] * mid[y * side + index[k]];
      out[y * size + o] = Math.min(255, Math.max(0, Math.round(acc)));
    }
  }
  return out;
}

/**
 * Cut `box` out of a decoded image (first channel of `channels`), repeating the nearest edge pixel
 * outside the image. Returns `side × side` bytes, row-major.
 */
function cropWithEdgePadding(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  box: CropBox,
): Buffer {
  const { left, top, side } = box;
  const out = Buffer.alloc(side * side);
  const xs = new Int32Array(side);
  for (let x = 0; x < side; x++) xs[x] = Math.min(width - 1, Math.max(0, left + x)) * channels;
  for (let y = 0; y < side; y++) {
    const sy = Math.min(height - 1, Math.max(0, top + y));
    const rowBase = sy * width * channels;
    const o = y * side;
    for (let x = 0; x < side; x++) out[o + x] = data[rowBase + xs[x]];
  }
  return out;
}

/**
 * Convert many faces (see {@link convertLandmarkImage}) with bounded concurrency, keeping their order.
 *
 * @param records CSV rows, e.g. from `readLandmarkCsv` (possibly from several CSVs / image folders).
 * @returns the faces as a Kaggle-format table in pixels.
 * @throws {ConfigError} when `concurrency` is not an integer ≥ 1.
 * @throws {DataNotFoundError | DataFormatError} from the first face that fails; the others are abandoned.
 */
export async function convertLandmarkRecords(
  records: readonly LandmarkRecord[],
  options: ConvertLandmarksOptions = {},
): Promise<ConvertedLandmarks> {
  const rule = options.rule ?? DEFAULT_CROP_RULE;
  validateRule(rule);
  const concurrency = options.concurrency ?? DEFAULT_CONVERT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ConfigError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
  }
  const n = records.length;
  const keypoints = new Float32Array(n * KAGGLE_COLUMNS.length);
  const images = new Uint8Array(n * IMAGE_PIXELS);
  const boxes = new Array<CropBox>(n);
  let paddedCount = 0;
  let done = 0;
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < n) {
      const i = next++;
      try {
        const face = await convertLandmarkImage(records[i], rule);
        keypoints.set(face.keypoints, i * KAGGLE_COLUMNS.length);
        images.set(face.pixels, i * IMAGE_PIXELS);
        boxes[i] = face.box;
        if (face.padded) paddedCount++;
      } catch (error) {
        failed = true;
        throw error;
      }
      done++;
      options.onProgress?.(done, n);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(n, 1)) }, worker));
  return {
    count: n,
    columns: KAGGLE_COLUMNS,
    keypoints,
    images,
    identities: records.map((r) => r.identity),
    names: records.map((r) => r.name),
    boxes,
    paddedCount,
  };
}

/** Options of {@link convertLandmarkFolder}. */
export interface ConvertLandmarkFolderOptions extends ConvertLandmarksOptions {
  /** Landmark CSV: header `,0,1,…,135`, rows `<image file name>,x0,y0,…,x67,y67` (source pixels). */
  readonly csv: string;
  /** Folder of the images named in the CSV's first column. */
  readonly imagesDir: string;
  /** Output Kaggle CSV (`.gz` → gzipped), written atomically; its folder is created when missing. */
  readonly out: string;
  /**
   * `'training'` (default): `training.csv` layout, 30 keypoint columns + `Image` (+ `Identity`).
   * `'test'`: `test.csv` layout, `ImageId,Image` (+ `Identity`); keypoints go to `keypointsOut` if given.
   */
  readonly format?: 'training' | 'test';
  /**
   * With `format: 'test'`: also write the keypoints of the same rows, in the training layout without
   * `Image`: 30 keypoint columns, `ImageId` (same ids as `out`: row `i` → `i + 1`), `Identity`.
   */
  readonly keypointsOut?: string;
  /** Write the `Identity` column, default `true`. */
  readonly identity?: boolean;
  /** Keep only the rows for which this returns true (applied before `limit`). */
  readonly filter?: (record: LandmarkRecord) => boolean;
  /** Convert at most this many rows (the first ones in CSV order after `filter`), integer ≥ 0. */
  readonly limit?: number;
}

/** What {@link convertLandmarkFolder} did. */
export interface ConvertLandmarkFolderResult {
  /** Rows written. */
  readonly rows: number;
  /** Distinct identities among them. */
  readonly identities: number;
  /** Faces whose crop extended past their image (edge-padded). */
  readonly padded: number;
  /** The output file. */
  readonly out: WriteKaggleCsvResult;
  /** The keypoint file (test format with `keypointsOut` only). */
  readonly keypointsOut?: WriteKaggleCsvResult;
  /** The converted table (pixels), for callers that want to use it without reading the file back. */
  readonly table: ConvertedLandmarks;
}

/**
 * Convert a landmark folder (68-point iBUG layout, e.g. the YouTube-Faces / Udacity P1 set) to a Kaggle
 * "Facial Keypoints Detection" CSV: each face is cropped to a square by the crop rule (default
 * {@link DEFAULT_CROP_RULE}, calibrated to Kaggle's mean keypoint positions), edge-padded where the crop
 * leaves the image, resized to 96 × 96 grayscale, and its landmarks mapped to the 15 Kaggle keypoints
 * (pixels, subject's left/right); the subject goes to an extra `Identity` column.
 *
 * @example
 * await convertLandmarkFolder({
 *   csv: 'shared/data/youtube_faces_p1/training_frames_keypoints.csv',
 *   imagesDir: 'shared/data/youtube_faces_p1/training',
 *   out: 'out/training.csv.gz',
 * });
 * @throws {DataNotFoundError} when the CSV, the images folder or an image file is missing (the message names
 *   the image, the CSV file and line).
 * @throws {DataFormatError} (file, line, column) for a bad CSV header or row (wrong field count, empty or
 *   non-numeric coordinate), or an image that cannot be decoded.
 * @throws {ConfigError} for invalid options (`limit`, `concurrency`, `rule`, `keypointsOut` without `format: 'test'`).
 */
export async function convertLandmarkFolder(options: ConvertLandmarkFolderOptions): Promise<ConvertLandmarkFolderResult> {
  const format = options.format ?? 'training';
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new ConfigError(`limit must be an integer ≥ 0, got ${options.limit}`);
  }
  if (options.keypointsOut !== undefined && format !== 'test') {
    throw new ConfigError("keypointsOut is only used with format: 'test' (the training format already holds keypoints)");
  }
  validateRule(options.rule ?? DEFAULT_CROP_RULE);
  await assertDirectory(options.imagesDir);
  let records = await readLandmarkCsv(options.csv, options.imagesDir);
  if (options.filter) records = records.filter(options.filter);
  if (options.limit !== undefined) records = records.slice(0, options.limit);
  const table = await convertLandmarkRecords(records, options);
  const identity = options.identity ?? true;
  const out = await writeKaggleCsv(
    options.out,
    format === 'training' ? table : { count: table.count, images: table.images, identities: table.identities },
    { format, identity },
  );
  const keypointsOut =
    options.keypointsOut !== undefined
      ? await writeKaggleCsv(
          options.keypointsOut,
          { count: table.count, columns: table.columns, keypoints: table.keypoints, identities: table.identities },
          { format: 'training', identity, imageId: true },
        )
      : undefined;
  return {
    rows: table.count,
    identities: new Set(table.identities).size,
    padded: table.paddedCount,
    out,
    keypointsOut,
    table,
  };
}

function validateRule(rule: CropRule): void {
  if (!(rule.scale > 0) || !Number.isFinite(rule.scale) || !Number.isFinite(rule.offsetX) || !Number.isFinite(rule.offsetY)) {
    throw new ConfigError(
      `invalid crop rule ${JSON.stringify(rule)}: scale must be > 0 and offsets finite`,
    );
  }
}
