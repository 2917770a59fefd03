import { stat } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import {
  ConfigError,
  IDENTITY_COLUMN,
  IMAGE_COLUMN,
  IMAGE_ID_COLUMN,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
} from '@keypoints/core';
import { writeFileAtomic } from '@keypoints/core/node';

/**
 * What {@link writeKaggleCsv} writes: a `KeypointTable` fits, and so does any object with these fields.
 *
 * - `keypoints`: `[count, columns.length]` **pixels** (96 × 96 frame), `NaN` = missing.
 * - `images`: `[count, 9216]` row-major 96 × 96 grayscale, integers 0..255 (a `Uint8Array` is ideal).
 */
export interface KaggleTableLike {
  /** Number of rows. */
  readonly count: number;
  /** Keypoint columns of `keypoints` (names from `KAGGLE_COLUMNS`, any order); default all 30 in Kaggle order. */
  readonly columns?: readonly string[];
  /** `[count, columns.length]` pixels, `NaN` where missing. Required for the training format. */
  readonly keypoints?: ArrayLike<number>;
  /** `[count, 9216]` 0..255. Required for the test format; optional for the training format. */
  readonly images?: ArrayLike<number>;
  /** One subject per row, written as the extra `Identity` column. */
  readonly identities?: readonly string[];
  /** Test-format `ImageId` per row; default `1..count`. */
  readonly imageIds?: readonly number[];
}

/** Options of {@link writeKaggleCsv}. */
export interface WriteKaggleCsvOptions {
  /**
   * `'training'`: the 30 `KAGGLE_COLUMNS`, then `Image` (when the table has images), then `ImageId`
   * (with `imageId: true`), then `Identity`.
   * `'test'`: `ImageId,Image`, then `Identity`.
   * Default: `'training'` when the table has keypoints, else `'test'`.
   */
  readonly format?: 'training' | 'test';
  /** Gzip the output. Default: the file name ends in `.gz`. */
  readonly gzip?: boolean;
  /** gzip level 0..9, default 9. */
  readonly gzipLevel?: number;
  /** Write the `Identity` column when the table has identities. Default `true`. */
  readonly identity?: boolean;
  /**
   * Training format only: also write an `ImageId` column (after `Image`, before `Identity`) from
   * `table.imageIds` (default `1..count`), e.g. for the keypoints of a test file. Default `false`.
   */
  readonly imageId?: boolean;
  /** Keypoint decimals (trailing zeros dropped), 0..10, default 4. */
  readonly decimals?: number;
}

/** What {@link writeKaggleCsv} wrote. */
export interface WriteKaggleCsvResult {
  /** The file written. */
  readonly file: string;
  /** Data rows (header excluded). */
  readonly rows: number;
  /** Header columns, in order. */
  readonly header: readonly string[];
  /** Size of the file on disk, bytes. */
  readonly bytes: number;
}

/**
 * Write a table in Kaggle "Facial Keypoints Detection" CSV format (LF line endings, no quoting except
 * for an `Identity` value containing `,`, `"` or a line break).
 *
 * - Training format (`training.csv`): header `left_eye_center_x,…,mouth_center_bottom_lip_y[,Image][,ImageId][,Identity]`.
 *   All 30 keypoint columns are always written, in Kaggle order; a column the table lacks is empty.
 *   Keypoints in pixels with at most `decimals` decimals (`66.0336`); `NaN` → empty field.
 * - Test format (`test.csv`): header `ImageId,Image[,Identity]`.
 * - `Image`: 9216 space-separated integers 0..255 (row-major 96 × 96).
 *
 * The write is atomic and durable (`writeFileAtomic` of `@keypoints/core/node`): the rows are streamed to
 * a temporary file in the same folder, fsynced, then renamed over `file`, so a reader or a crash never
 * sees a half-written file; on any error `file` keeps its previous content. The folder is created when missing. `.gz` →
 * gzip (deterministic bytes: no name or time in the gzip header).
 *
 * @param file destination, e.g. `runs/data/train.csv.gz`.
 * @param table the rows (see {@link KaggleTableLike}).
 * @throws {ConfigError} when the table's arrays do not match `count` and `columns`, a column is not a
 *   Kaggle keypoint column, the format needs data the table lacks, a keypoint is ±Infinity, or a pixel
 *   is not an integer 0..255.
 * @throws the file system's error when the file cannot be written (the temporary file is removed).
 */
export async function writeKaggleCsv(
  file: string,
  table: KaggleTableLike,
  options: WriteKaggleCsvOptions = {},
): Promise<WriteKaggleCsvResult> {
  const { count } = table;
  if (!Number.isInteger(count) || count < 0) throw new ConfigError(`table.count must be an integer ≥ 0, got ${count}`);
  const decimals = options.decimals ?? 4;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 10) {
    throw new ConfigError(`decimals must be an integer 0..10, got ${decimals}`);
  }
  const format = options.format ?? (table.keypoints !== undefined ? 'training' : 'test');
  const columns = table.columns ?? KAGGLE_COLUMNS;
  const columnIndex = KAGGLE_COLUMNS.map((c) => columns.indexOf(c));
  for (const c of columns) {
    if (!KAGGLE_COLUMNS.includes(c)) throw new ConfigError(`'${c}' is not a Kaggle keypoint column`);
  }
  if (table.keypoints !== undefined && table.keypoints.length !== count * columns.length) {
    throw new ConfigError(
      `keypoints hold ${table.keypoints.length} values; expected count × columns = ${count} × ${columns.length}`,
    );
  }
  if (table.images !== undefined && table.images.length !== count * IMAGE_PIXELS) {
    throw new ConfigError(`images hold ${table.images.length} values; expected count × 9216 = ${count * IMAGE_PIXELS}`);
  }
  if (table.identities !== undefined && table.identities.length !== count) {
    throw new ConfigError(`identities hold ${table.identities.length} values; expected ${count}`);
  }
  if (table.imageIds !== undefined && table.imageIds.length !== count) {
    throw new ConfigError(`imageIds hold ${table.imageIds.length} values; expected ${count}`);
  }
  if (format === 'training' && table.keypoints === undefined) {
    throw new ConfigError('the training format needs keypoints');
  }
  if (format === 'test' && table.images === undefined) throw new ConfigError('the test format needs images');
  const withIdentity = (options.identity ?? true) && table.identities !== undefined;
  const withImage = table.images !== undefined;
  const withImageId = format === 'training' && options.imageId === true;

  const header =
    format === 'training'
      ? [
          ...KAGGLE_COLUMNS,
          ...(withImage ? [IMAGE_COLUMN] : []),
          ...(withImageId ? [IMAGE_ID_COLUMN] : []),
          ...(withIdentity ? [IDENTITY_COLUMN] : []),
        ]
      : [IMAGE_ID_COLUMN, IMAGE_COLUMN, ...(withIdentity ? [IDENTITY_COLUMN] : [])];

  const width = columns.length;
  const kp = table.keypoints;
  const images = table.images;
  const fastPixels = images instanceof Uint8Array || images instanceof Uint8ClampedArray;

  function imageField(row: number): string {
    const parts = new Array<string>(IMAGE_PIXELS);
    const base = row * IMAGE_PIXELS;
    for (let i = 0; i < IMAGE_PIXELS; i++) {
      const v = images![base + i];
      if (!fastPixels && !(Number.isInteger(v) && v >= 0 && v <= 255)) {
        throw new ConfigError(`row ${row}: pixel ${i} is ${v}; expected an integer 0..255`);
      }
      parts[i] = PIXEL_STRINGS[v];
    }
    return parts.join(' ');
  }

  function* lines(): Generator<string> {
    yield `${header.join(',')}\n`;
    for (let r = 0; r < count; r++) {
      const fields: string[] = [];
      if (format === 'training') {
        for (let c = 0; c < KAGGLE_COLUMNS.length; c++) {
          const j = columnIndex[c];
          fields.push(j < 0 ? '' : formatKeypoint(kp![r * width + j], decimals, r, KAGGLE_COLUMNS[c]));
        }
      } else {
        fields.push(String(table.imageIds?.[r] ?? r + 1));
      }
      if (withImage) fields.push(imageField(r));
      if (withImageId) fields.push(String(table.imageIds?.[r] ?? r + 1));
      if (withIdentity) fields.push(quoteField(table.identities![r]));
      yield `${fields.join(',')}\n`;
    }
  }

  const gzip = options.gzip ?? file.endsWith('.gz');
  await writeFileAtomic(file, lines(), gzip ? { transform: createGzip({ level: options.gzipLevel ?? 9 }) } : {});
  const { size } = await stat(file);
  return { file, rows: count, header, bytes: size };
}

const PIXEL_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * A keypoint in pixels as Kaggle writes it: at most `decimals` decimals, trailing zeros dropped
 * (`66.0336`, `30`, `-0` → `0`); `NaN` → `''` (missing).
 *
 * @throws {ConfigError} for ±Infinity.
 */
export function formatKeypoint(value: number, decimals = 4, row?: number, column?: string): string {
  if (Number.isNaN(value)) return '';
  if (!Number.isFinite(value)) {
    throw new ConfigError(`keypoint ${value}${row !== undefined ? ` in row ${row}` : ''}${column ? `, column ${column}` : ''}`);
  }
  let s = value.toFixed(decimals);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

function quoteField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
