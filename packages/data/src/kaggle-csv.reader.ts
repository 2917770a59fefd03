import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import {
  ConfigError,
  DataFormatError,
  DataNotFoundError,
  IDENTITY_COLUMN,
  IMAGE_COLUMN,
  IMAGE_ID_COLUMN,
  IMAGE_PIXELS,
  KAGGLE_COLUMNS,
  KeypointsError,
} from '@keypoints/core';
import type { KeypointTable } from './dataset.js';

/** Options of {@link readKaggleCsv}. */
export interface ReadKaggleCsvOptions {
  /**
   * Keypoint columns to keep (names from `KAGGLE_COLUMNS`), in the order wanted in the table.
   * Default: every keypoint column of the file, in file order.
   */
  readonly columns?: readonly string[];
  /** Stop after this many data rows (a positive integer). Default: read every row. */
  readonly maxRows?: number;
  /**
   * Require an `Image` column. Default `true`; pass `false` to read a keypoint-only table
   * (e.g. `training_keypoints_only.csv`), whose {@link KeypointTable.images} is then `undefined`.
   */
  readonly requireImage?: boolean;
}

/** Rows of pixels per storage chunk while reading (≈ 2.4 MB each); chunks are joined once at the end. */
const CHUNK_ROWS = 256;
const READ_HIGH_WATER_MARK = 1 << 20;
const GZIP_MAGIC = [0x1f, 0x8b];
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const UTF8_BOM = [0xef, 0xbb, 0xbf];
const KEYPOINT_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const KNOWN_EXTRA_COLUMNS = [IMAGE_COLUMN, IMAGE_ID_COLUMN, IDENTITY_COLUMN];

/**
 * Read a table in the Kaggle "Facial Keypoints Detection" format, streaming.
 *
 * Accepted layouts (recognised by the header line):
 * - `training.csv`: the 30 keypoint columns of `KAGGLE_COLUMNS` (pixels, empty field = missing)
 *   then `Image` (9216 space-separated integers 0..255, a 96×96 grayscale image, row-major);
 *   extra columns such as `Identity` are allowed.
 * - `test.csv`: `ImageId,Image`.
 * - a keypoint-only table (no `Image` column) when `requireImage: false`.
 *
 * Accepted files: plain `.csv`, gzip-compressed (`.csv.gz`), and a zip archive holding exactly one
 * `.csv` (Kaggle's own `training.zip` / `test.zip`). The format is recognised from the first bytes,
 * not the file name. The file is streamed: pixels are parsed from the raw bytes straight into a
 * `[count, 9216]` uint8 array, so memory stays near the size of the pixels, not of the text.
 *
 * Unknown header columns are ignored. Empty lines are skipped.
 *
 * @param file path of the `.csv`, `.csv.gz` or `.zip` file.
 * @param options see {@link ReadKaggleCsvOptions}; default: all keypoint columns, every row,
 *   `Image` required.
 * @returns the table in pixels: `keypoints` `[count, columns.length]` float32 (`NaN` where missing),
 *   `images` `[count, 9216]` uint8 0..255 (absent without an `Image` column), `identities` when the
 *   file has an `Identity` column, `imageIds` when it has an `ImageId` column.
 * @throws {DataNotFoundError} when the file does not exist, is not a regular file, or cannot be read.
 * @throws {DataFormatError} on malformed input; the message names the file (`archive.zip:entry.csv`
 *   inside a zip), the 1-based physical line (header = line 1), the column, and what was expected:
 *   an empty file or one with only a header, a missing `Image` column (when required), a row with the
 *   wrong number of fields, a non-numeric keypoint, a pixel that is not an integer 0..255, an image
 *   without exactly 9216 pixels, a zip without a `.csv` (or with several), a corrupt gzip or zip.
 * @throws {ConfigError} when `options.columns` names a column the file lacks (the message lists the
 *   keypoint columns it has) or repeats one, or `options.maxRows` is not a positive integer.
 *
 * @example
 * ```ts
 * const table = await readKaggleCsv('data/kaggle/training_keypoints_only.csv', { requireImage: false });
 * table.count; // 7049
 * const train = await readKaggleCsv('downloads/training.zip'); // images [7049, 9216]
 * ```
 */
export async function readKaggleCsv(file: string, options: ReadKaggleCsvOptions = {}): Promise<KeypointTable> {
  const { maxRows, requireImage = true } = options;
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows > 0)) {
    throw new ConfigError(`readKaggleCsv: maxRows must be a positive integer, got ${String(maxRows)}`);
  }
  const kind = await sniffFile(file);
  if (kind === 'zip') {
    return readZip(file, options, requireImage);
  }
  const fileStream = createReadStream(file, { highWaterMark: READ_HIGH_WATER_MARK });
  if (kind === 'gzip') {
    const gunzip = createGunzip({ chunkSize: 1 << 16 });
    fileStream.on('error', (err) => gunzip.destroy(err));
    fileStream.pipe(gunzip);
    return readStream(gunzip, file, 'gzip', options, requireImage, [fileStream, gunzip]);
  }
  return readStream(fileStream, file, 'plain', options, requireImage, [fileStream]);
}

type FileKind = 'plain' | 'gzip' | 'zip';

async function sniffFile(file: string): Promise<FileKind> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) {
      throw new DataNotFoundError(`Kaggle CSV '${file}' is not a regular file; expected a .csv, .csv.gz or .zip file`);
    }
    size = st.size;
  } catch (err) {
    if (err instanceof KeypointsError) throw err;
    throw notFound(file, err);
  }
  if (size === 0) {
    throw new DataFormatError(
      { file, line: 1 },
      'the file is empty (0 bytes); expected a header line such as "left_eye_center_x,…,Image"',
    );
  }
  const head = Buffer.alloc(4);
  try {
    const fh = await open(file, 'r');
    try {
      await fh.read(head, 0, 4, 0);
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw notFound(file, err);
  }
  if (startsWith(head, ZIP_MAGIC)) return 'zip';
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  return 'plain';
}

function notFound(file: string, err: unknown): DataNotFoundError {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') {
    return new DataNotFoundError(
      `Kaggle CSV '${file}' does not exist; expected a .csv, .csv.gz or .zip file (e.g. Kaggle's training.zip)`,
      { cause: err },
    );
  }
  return new DataNotFoundError(`Kaggle CSV '${file}' cannot be read: ${(err as Error).message}`, { cause: err });
}

function startsWith(buf: Uint8Array, magic: readonly number[]): boolean {
  if (buf.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (buf[i] !== magic[i]) return false;
  return true;
}

async function readZip(file: string, options: ReadKaggleCsvOptions, requireImage: boolean): Promise<KeypointTable> {
  let zip: ZipFile;
  try {
    zip = await yauzl.openPromise(file, { autoClose: false, lazyEntries: true });
  } catch (err) {
    throw new DataFormatError({ file }, `not a valid zip archive (${(err as Error).message})`, { cause: err });
  }
  try {
    const csvEntries: Entry[] = [];
    const others: string[] = [];
    try {
      for await (const entry of zip.eachEntry()) {
        const name = entry.fileName;
        if (name.endsWith('/')) continue;
        const base = basename(name);
        if (name.startsWith('__MACOSX/') || base.startsWith('._')) continue;
        if (base.toLowerCase().endsWith('.csv')) csvEntries.push(entry);
        else others.push(name);
      }
    } catch (err) {
      throw new DataFormatError({ file }, `not a valid zip archive (${(err as Error).message})`, { cause: err });
    }
    if (csvEntries.length !== 1) {
      const listed = others.length > 0 ? others.join(', ') : 'none';
      const nested = others.filter((n) => n.toLowerCase().endsWith('.zip'));
      const hint = nested.length > 0 ? `; it holds zip archives (${nested.join(', ')}): extract one and read that` : '';
      const problem =
        csvEntries.length === 0
          ? `no .csv file inside the zip archive (other entries: ${listed}); expected exactly one .csv such as training.csv${hint}`
          : `${csvEntries.length} .csv files inside the zip archive (${csvEntries.map((e) => e.fileName).join(', ')}); expected exactly one${hint}`;
      throw new DataFormatError({ file }, problem);
    }
    const entry = csvEntries[0];
    const where = `${file}:${entry.fileName}`;
    if (entry.uncompressedSize === 0) {
      throw new DataFormatError(
        { file: where, line: 1 },
        'the file is empty (0 bytes); expected a header line such as "left_eye_center_x,…,Image"',
      );
    }
    let stream: Readable;
    try {
      stream = await zip.openReadStreamPromise(entry);
    } catch (err) {
      throw new DataFormatError({ file: where }, `cannot read the zip entry (${(err as Error).message})`, { cause: err });
    }
    return await readStream(stream, where, 'zip', options, requireImage, [stream]);
  } finally {
    zip.close();
  }
}

interface HeaderLayout {
  readonly width: number;
  /** Index (in the record) of each selected keypoint column. */
  readonly keypointFields: readonly number[];
  readonly columns: readonly string[];
  readonly imageField: number;
  readonly imageIdField: number;
  readonly identityField: number;
}

/** Growable storage: keypoints in a doubling Float32Array, pixels in fixed-size chunks. */
class TableBuilder {
  count = 0;
  private keypoints: Float32Array;
  private readonly pixelChunks: Uint8Array[] = [];
  private readonly identities: string[] = [];
  private readonly imageIds: number[] = [];

  constructor(private readonly layout: HeaderLayout) {
    this.keypoints = new Float32Array(Math.max(1, layout.columns.length) * 1024);
  }

  /** Slice of the pixel storage for row `count` (length 9216). */
  nextImageSlot(): Uint8Array {
    const chunk = Math.floor(this.count / CHUNK_ROWS);
    if (chunk === this.pixelChunks.length) this.pixelChunks.push(new Uint8Array(CHUNK_ROWS * IMAGE_PIXELS));
    const start = (this.count % CHUNK_ROWS) * IMAGE_PIXELS;
    return this.pixelChunks[chunk].subarray(start, start + IMAGE_PIXELS);
  }

  /** Slice of the keypoint storage for row `count`. */
  nextKeypointSlot(): Float32Array {
    const k = this.layout.columns.length;
    if ((this.count + 1) * k > this.keypoints.length) {
      const grown = new Float32Array(this.keypoints.length * 2);
      grown.set(this.keypoints);
      this.keypoints = grown;
    }
    return this.keypoints.subarray(this.count * k, (this.count + 1) * k);
  }

  pushIdentity(id: string): void {
    this.identities.push(id);
  }

  pushImageId(id: number): void {
    this.imageIds.push(id);
  }

  build(file: string): KeypointTable {
    const { count, layout } = this;
    const keypoints = this.keypoints.slice(0, count * layout.columns.length);
    let images: Uint8Array | undefined;
    if (layout.imageField >= 0) {
      const bytes = count * IMAGE_PIXELS;
      if (this.pixelChunks.length === 1) {
        images = this.pixelChunks[0].subarray(0, bytes).slice();
      } else {
        images = new Uint8Array(bytes);
        let offset = 0;
        for (const chunk of this.pixelChunks) {
          const n = Math.min(chunk.length, bytes - offset);
          images.set(chunk.subarray(0, n), offset);
          offset += n;
        }
      }
      this.pixelChunks.length = 0;
    }
    return {
      file,
      count,
      columns: layout.columns,
      keypoints,
      ...(images !== undefined ? { images } : {}),
      ...(layout.identityField >= 0 ? { identities: this.identities } : {}),
      ...(layout.imageIdField >= 0 ? { imageIds: this.imageIds } : {}),
    };
  }
}

interface ParsedRecord {
  readonly record: Array<Uint8Array | string>;
  readonly info: { readonly lines: number };
}

async function readStream(
  source: Readable,
  file: string,
  kind: FileKind,
  options: ReadKaggleCsvOptions,
  requireImage: boolean,
  toClose: readonly Readable[],
): Promise<KeypointTable> {
  // encoding: null → fields arrive as bytes, so the ~35 kB Image field never becomes a string.
  const parser = parse({ encoding: null, info: true, relax_column_count: true, skip_empty_lines: true });
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);

  let layout: HeaderLayout | undefined;
  let builder: TableBuilder | undefined;
  let lastLine = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<ParsedRecord>) {
      const line = info.lines;
      lastLine = line;
      if (layout === undefined || builder === undefined) {
        layout = parseHeader(record, file, line, options, requireImage);
        builder = new TableBuilder(layout);
        continue;
      }
      readRow(record, line, file, layout, builder);
      if (options.maxRows !== undefined && builder.count >= options.maxRows) break;
    }
  } catch (err) {
    throw translateStreamError(err, file, kind);
  } finally {
    // Once we stop reading (bad header, maxRows), a chunk already in the parser may still fail to
    // parse: swallow that late error instead of letting it escape as an uncaught 'error' event.
    parser.on('error', () => {});
    source.unpipe(parser);
    parser.destroy();
    for (const s of toClose) s.destroy();
  }
  if (layout === undefined || builder === undefined) {
    throw new DataFormatError(
      { file, line: 1 },
      'the file is empty; expected a header line such as "left_eye_center_x,…,Image"',
    );
  }
  if (builder.count === 0) {
    throw new DataFormatError(
      { file, line: lastLine + 1 },
      'no data rows after the header; expected at least one row',
    );
  }
  return builder.build(file);
}

function translateStreamError(err: unknown, file: string, kind: FileKind): unknown {
  // Not core's isKeypointsError(err): without a code it also accepts Node errors (ENOENT, Z_BUF_ERROR).
  if (err instanceof KeypointsError) return err;
  const e = err as { code?: unknown; lines?: unknown; message?: string };
  const code = typeof e?.code === 'string' ? e.code : '';
  // csv-parse's CsvError: codes such as CSV_INVALID_CLOSING_QUOTE but also INVALID_OPENING_QUOTE.
  if (err instanceof CsvError || code.startsWith('CSV_')) {
    const line = typeof e.lines === 'number' && e.lines > 0 ? e.lines : undefined;
    return new DataFormatError({ file, ...(line !== undefined ? { line } : {}) }, `not a valid CSV file (${csvProblem(e.message)}); expected a Kaggle-format CSV: a header line such as "left_eye_center_x,…,Image", then comma-separated rows`, {
      cause: err,
    });
  }
  if (/^E[A-Z]+$/.test(code)) return notFound(file, err);
  if (kind === 'gzip') {
    return new DataFormatError({ file }, `not a valid gzip stream (${e.message}); expected a gzip-compressed CSV`, {
      cause: err,
    });
  }
  if (kind === 'zip') {
    return new DataFormatError({ file }, `corrupt zip entry (${e.message}); expected a readable CSV inside the archive`, {
      cause: err,
    });
  }
  return err;
}

/**
 * csv-parse's message without its location and raw-value dump ("…, value is {"type":"Buffer",…}"):
 * `Invalid Opening Quote: a quote is found on field 0 at line 9, value is …` → `invalid opening quote: a quote is found on field 0`.
 */
export function csvProblem(message: string | undefined): string {
  const text = (message ?? 'unreadable').split('\n')[0].replace(/,? value is .*$/s, '').replace(/ at line \d+\s*$/, '');
  return text.charAt(0).toLowerCase() + text.slice(1).replace(/^([^:]*):/, (m) => m.toLowerCase());
}

function fieldText(field: Uint8Array | string): string {
  if (typeof field === 'string') return field;
  return Buffer.from(field.buffer, field.byteOffset, field.byteLength).toString('utf8');
}

function parseHeader(
  record: ReadonlyArray<Uint8Array | string>,
  file: string,
  line: number,
  options: ReadKaggleCsvOptions,
  requireImage: boolean,
): HeaderLayout {
  const names = record.map((f, i) => {
    let bytes = f;
    if (i === 0 && typeof bytes !== 'string' && startsWith(bytes, UTF8_BOM)) bytes = bytes.subarray(3);
    return fieldText(bytes).replace(/^\uFEFF/, '').trim();
  });
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (seen.has(name) && name !== '') {
      throw new DataFormatError({ file, line, column: name }, `column '${name}' appears twice in the header; expected unique names`);
    }
    seen.set(name, i);
  });
  const fileKeypoints = names.filter((n) => KAGGLE_COLUMNS.includes(n));
  const known = names.filter((n) => KAGGLE_COLUMNS.includes(n) || KNOWN_EXTRA_COLUMNS.includes(n));
  if (known.length === 0) {
    throw new DataFormatError(
      { file, line },
      `the header (${abbreviate(names.join(','))}) has none of the Kaggle columns; expected keypoint columns ` +
        `(left_eye_center_x, …), '${IMAGE_COLUMN}', or '${IMAGE_ID_COLUMN}'`,
    );
  }
  const imageField = seen.get(IMAGE_COLUMN) ?? -1;
  if (requireImage && imageField < 0) {
    throw new DataFormatError(
      { file, line, column: IMAGE_COLUMN },
      `no '${IMAGE_COLUMN}' column in the header; expected one holding ${IMAGE_PIXELS} space-separated pixels ` +
        `(pass requireImage: false to read a keypoint-only table)`,
    );
  }
  let columns: readonly string[] = fileKeypoints;
  if (options.columns !== undefined) {
    const wanted = options.columns;
    const dup = wanted.find((c, i) => wanted.indexOf(c) !== i);
    if (dup !== undefined) throw new ConfigError(`readKaggleCsv: column '${dup}' is requested twice`);
    const absent = wanted.filter((c) => !fileKeypoints.includes(c));
    if (absent.length > 0) {
      throw new ConfigError(
        `readKaggleCsv: ${file} has no keypoint column${absent.length > 1 ? 's' : ''} ${absent
          .map((c) => `'${c}'`)
          .join(', ')}; its keypoint columns are: ${fileKeypoints.length > 0 ? fileKeypoints.join(', ') : 'none'}`,
      );
    }
    columns = [...wanted];
  }
  return {
    width: names.length,
    keypointFields: columns.map((c) => seen.get(c) as number),
    columns: Object.freeze([...columns]),
    imageField,
    imageIdField: seen.get(IMAGE_ID_COLUMN) ?? -1,
    identityField: seen.get(IDENTITY_COLUMN) ?? -1,
  };
}

function abbreviate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function readRow(
  record: ReadonlyArray<Uint8Array | string>,
  line: number,
  file: string,
  layout: HeaderLayout,
  builder: TableBuilder,
): void {
  if (record.length !== layout.width) {
    throw new DataFormatError(
      { file, line },
      `found ${record.length} field${record.length === 1 ? '' : 's'}, expected ${layout.width} (one per header column)`,
    );
  }
  const kp = builder.nextKeypointSlot();
  const { keypointFields, columns } = layout;
  for (let j = 0; j < keypointFields.length; j++) {
    kp[j] = parseKeypoint(record[keypointFields[j]], file, line, columns[j]);
  }
  if (layout.imageField >= 0) {
    parsePixels(record[layout.imageField], builder.nextImageSlot(), file, line);
  }
  if (layout.imageIdField >= 0) {
    const text = fieldText(record[layout.imageIdField]).trim();
    const id = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(id)) {
      throw new DataFormatError(
        { file, line, column: IMAGE_ID_COLUMN },
        `value '${abbreviate(text, 40)}' is not an image id; expected a non-negative integer`,
      );
    }
    builder.pushImageId(id);
  }
  if (layout.identityField >= 0) {
    builder.pushIdentity(fieldText(record[layout.identityField]).trim());
  }
  builder.count++;
}

function parseKeypoint(field: Uint8Array | string, file: string, line: number, column: string): number {
  const text = fieldText(field).trim();
  if (text === '') return Number.NaN;
  if (!KEYPOINT_NUMBER.test(text)) {
    throw new DataFormatError(
      { file, line, column },
      `value '${abbreviate(text, 40)}' is not a number; expected a keypoint coordinate in pixels (or an empty field when missing)`,
    );
  }
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new DataFormatError(
      { file, line, column },
      `value '${abbreviate(text, 40)}' overflows a float64; expected a keypoint coordinate in pixels (or an empty field when missing)`,
    );
  }
  return value;
}

/**
 * Parse space-separated decimal integers 0..255 from `field` into `out` (length 9216), digit by digit.
 * @throws {DataFormatError} on a non-integer token, a value over 255, or a count other than 9216.
 */
function parsePixels(field: Uint8Array | string, out: Uint8Array, file: string, line: number): void {
  const bytes = typeof field === 'string' ? Buffer.from(field, 'latin1') : field;
  const len = bytes.length;
  let n = 0;
  let value = 0;
  let inNumber = false;
  for (let i = 0; i < len; i++) {
    const c = bytes[i];
    if (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      inNumber = true;
    } else if (c === 32 || c === 9 || c === 13 || c === 10) {
      if (inNumber) {
        if (value > 255) pixelRangeError(bytes, i, n, file, line);
        if (n < IMAGE_PIXELS) out[n] = value;
        n++;
        value = 0;
        inNumber = false;
      }
    } else if (c === 45 && !inNumber && i + 1 < len && bytes[i + 1] >= 48 && bytes[i + 1] <= 57) {
      pixelRangeError(bytes, i + 1, n, file, line); // a negative integer
    } else {
      pixelTokenError(bytes, i, n, file, line);
    }
  }
  if (inNumber) {
    if (value > 255) pixelRangeError(bytes, len, n, file, line);
    if (n < IMAGE_PIXELS) out[n] = value;
    n++;
  }
  if (n !== IMAGE_PIXELS) {
    throw new DataFormatError(
      { file, line, column: IMAGE_COLUMN },
      `found ${n} pixel${n === 1 ? '' : 's'}, expected ${IMAGE_PIXELS} (96 × 96 space-separated integers 0..255)`,
    );
  }
}

function isSeparator(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

/** The whitespace-delimited token around position `at`. */
function tokenAround(bytes: Uint8Array, at: number): string {
  let start = Math.min(at, bytes.length);
  while (start > 0 && !isSeparator(bytes[start - 1])) start--;
  let end = at;
  while (end < bytes.length && !isSeparator(bytes[end])) end++;
  return abbreviate(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8'), 20);
}

function pixelTokenError(bytes: Uint8Array, at: number, index: number, file: string, line: number): never {
  throw new DataFormatError(
    { file, line, column: IMAGE_COLUMN },
    `pixel #${index + 1} is '${tokenAround(bytes, at)}', not an integer; expected integers 0..255 separated by spaces`,
  );
}

function pixelRangeError(bytes: Uint8Array, end: number, index: number, file: string, line: number): never {
  throw new DataFormatError(
    { file, line, column: IMAGE_COLUMN },
    `pixel #${index + 1} is ${tokenAround(bytes, Math.max(0, end - 1))}, outside 0..255; expected integers 0..255`,
  );
}
