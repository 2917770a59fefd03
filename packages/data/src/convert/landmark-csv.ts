import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { DataFormatError, DataNotFoundError } from '@keypoints/core';
import { IBUG68_POINT_COUNT } from './ibug68.js';

/** Fields of a landmark CSV row: the image file name, then `x0, y0, …, x67, y67`. */
export const LANDMARK_CSV_FIELDS = 1 + 2 * IBUG68_POINT_COUNT;

/** One face of a landmark folder (one CSV row). */
export interface LandmarkRecord {
  /** Image file name as written in the CSV, e.g. `Kevin_Stadler_31.jpg`. */
  readonly name: string;
  /** Subject: the file name without extension and `_NN` frame suffix, e.g. `Kevin_Stadler`. */
  readonly identity: string;
  /** Path of the image file (`imagesDir/name`). */
  readonly imagePath: string;
  /** `[136]` = `x0, y0, …, x67, y67`, pixels of the source image (iBUG 68-point order, 0-based). */
  readonly points: Float64Array;
  /** CSV file the row comes from. */
  readonly file: string;
  /** 1-based physical line of the row in `file` (the header is line 1). */
  readonly line: number;
}

/**
 * The subject of a YouTube-Faces frame file name: drop the directory, the extension and a trailing
 * `_<digits>` frame number. `Kevin_Stadler_31.jpg` → `Kevin_Stadler`; a name without a frame
 * number keeps its stem (`face.png` → `face`).
 */
export function identityFromFileName(name: string): string {
  const base = path.basename(name);
  const stem = base.replace(/\.[^.]*$/, '');
  return stem.replace(/_\d+$/, '') || stem;
}

/**
 * Read a landmark CSV (Udacity P1 / YouTube-Faces layout): a header of 137 fields (`,0,1,…,135`,
 * the first one being pandas' unnamed index column), then one row per face:
 * `<image file name>,x0,y0,…,x67,y67` in pixels of that image. Empty lines are skipped.
 *
 * Image files are not opened here (see `convertLandmarkRecords`).
 *
 * @param csv path of the CSV file.
 * @param imagesDir folder holding the images named in the first column.
 * @returns the rows in file order.
 * @throws {DataNotFoundError} when the CSV cannot be read.
 * @throws {DataFormatError} (file, line, column) when the header or a row does not have 137 fields,
 *   a file name is empty, or a coordinate is empty or not a finite number.
 */
export async function readLandmarkCsv(csv: string, imagesDir: string): Promise<LandmarkRecord[]> {
  let text: string;
  try {
    text = await readFile(csv, 'utf8');
  } catch (error) {
    throw new DataNotFoundError(`cannot read landmark CSV ${csv}: ${(error as Error).message}`, { cause: error });
  }
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as Array<{
      record: string[];
      info: { lines: number };
    }>;
  } catch (error) {
    const line = (error as { lines?: number }).lines;
    throw new DataFormatError({ file: csv, line }, `not valid CSV: ${(error as Error).message}`, { cause: error });
  }
  if (rows.length === 0) throw new DataFormatError({ file: csv, line: 1 }, 'empty file: expected a header line');
  const header = rows[0].record;
  if (header.length !== LANDMARK_CSV_FIELDS) {
    throw new DataFormatError(
      { file: csv, line: rows[0].info.lines },
      `header has ${header.length} fields; expected ${LANDMARK_CSV_FIELDS} (',0,1,…,135': file name, then x0,y0,…,x67,y67)`,
    );
  }
  const columnName = (i: number): string => header[i] || (i === 0 ? '(file name)' : String(i - 1));
  const out: LandmarkRecord[] = [];
  for (let r = 1; r < rows.length; r++) {
    const { record, info } = rows[r];
    const line = info.lines;
    if (record.length !== LANDMARK_CSV_FIELDS) {
      throw new DataFormatError(
        { file: csv, line },
        `row has ${record.length} fields; expected ${LANDMARK_CSV_FIELDS} (file name + 136 coordinates)`,
      );
    }
    const name = record[0].trim();
    if (name === '') throw new DataFormatError({ file: csv, line, column: columnName(0) }, 'empty image file name');
    const points = new Float64Array(2 * IBUG68_POINT_COUNT);
    for (let i = 1; i < LANDMARK_CSV_FIELDS; i++) {
      const field = record[i].trim();
      const v = field === '' ? NaN : Number(field);
      if (!Number.isFinite(v)) {
        const k = (i - 1) >> 1;
        const what = `${(i - 1) % 2 === 0 ? 'x' : 'y'} of landmark ${k}`;
        throw new DataFormatError(
          { file: csv, line, column: columnName(i) },
          field === '' ? `missing value (${what})` : `'${field}' is not a number (${what})`,
        );
      }
      points[i - 1] = v;
    }
    out.push({ name, identity: identityFromFileName(name), imagePath: path.join(imagesDir, name), points, file: csv, line });
  }
  return out;
}

/**
 * Check that a folder exists.
 * @throws {DataNotFoundError} when `dir` is missing or not a directory.
 */
export async function assertDirectory(dir: string, what = 'images folder'): Promise<void> {
  let ok = false;
  try {
    ok = (await stat(dir)).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new DataNotFoundError(`${what} ${dir} does not exist or is not a directory`);
}
