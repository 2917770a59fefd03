import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import {
  DataFormatError,
  DataNotFoundError,
  IMAGE_ID_COLUMN,
  IMAGE_PIXELS,
  IMAGE_SIZE,
  KAGGLE_COLUMNS,
  consoleLogger,
  toPixels,
  type Logger,
} from '@keypoints/core';
import { formatKeypoint, readKaggleCsv } from '@keypoints/data';
import { writeFileAtomic } from '@keypoints/core/node';
import { loadPredictor } from './predictor.js';

/** Header of a Kaggle submission (`SampleSubmission.csv`). */
export const SUBMISSION_HEADER = 'RowId,Location';

/** One requested value of Kaggle's `IdLookupTable.csv`. */
export interface LookupRow {
  /** `RowId`: the submission row (1-based in Kaggle's file). */
  readonly rowId: number;
  /** `ImageId`: the test.csv image (1…1783 in Kaggle's file). */
  readonly imageId: number;
  /** `FeatureName`: one of the 30 Kaggle keypoint columns. */
  readonly featureName: string;
  /** 1-based physical line in the lookup file (header = line 1). */
  readonly line: number;
}

/**
 * Read a Kaggle `IdLookupTable.csv`: header with `RowId`, `ImageId`, `FeatureName` (Kaggle's also has an
 * empty `Location`, ignored), one requested value per row, in file order.
 *
 * @throws {DataNotFoundError} when the file cannot be read.
 * @throws {DataFormatError} naming the file, line and column: not CSV, a header without those columns,
 *   a row with the wrong number of fields, a `RowId` / `ImageId` that is not a positive integer, a
 *   repeated `RowId`, or a `FeatureName` that is not one of the 30 Kaggle keypoint columns.
 */
export async function readLookupTable(file: string): Promise<LookupRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new DataNotFoundError(`cannot read lookup table ${file}: ${(cause as Error).message}`, { cause });
  }
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as typeof records;
  } catch (cause) {
    throw new DataFormatError({ file, line: (cause as { lines?: number }).lines }, `not valid CSV: ${(cause as Error).message}`, { cause });
  }
  if (records.length === 0) throw new DataFormatError({ file, line: 1 }, 'empty file; expected the header RowId,ImageId,FeatureName,Location');
  const header = records[0].record.map((h) => h.trim());
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) {
      throw new DataFormatError({ file, line: 1, column: name }, `no '${name}' column; expected Kaggle's header RowId,ImageId,FeatureName,Location, got ${header.join(',')}`);
    }
    return i;
  };
  const iRow = col('RowId');
  const iImage = col(IMAGE_ID_COLUMN);
  const iFeature = col('FeatureName');
  const seen = new Set<number>();
  const rows: LookupRow[] = [];
  for (const { record, info } of records.slice(1)) {
    const line = info.lines;
    if (record.length !== header.length) {
      throw new DataFormatError({ file, line }, `row has ${record.length} fields; expected ${header.length} like the header`);
    }
    const int = (i: number, name: string): number => {
      const v = record[i].trim();
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new DataFormatError({ file, line, column: name }, `'${v}' is not a positive integer`);
      return Number(v);
    };
    const rowId = int(iRow, 'RowId');
    if (seen.has(rowId)) throw new DataFormatError({ file, line, column: 'RowId' }, `RowId ${rowId} repeats an earlier row`);
    seen.add(rowId);
    const imageId = int(iImage, IMAGE_ID_COLUMN);
    const featureName = record[iFeature].trim();
    if (!KAGGLE_COLUMNS.includes(featureName)) {
      throw new DataFormatError(
        { file, line, column: 'FeatureName' },
        `'${featureName}' is not a Kaggle keypoint column; expected one of ${KAGGLE_COLUMNS.join(', ')}`,
      );
    }
    rows.push({ rowId, imageId, featureName, line });
  }
  return rows;
}

/** Options of {@link writeSubmission}. */
export interface SubmitOptions {
  /** A run directory or a specialists folder (see `loadPredictor`). */
  readonly model: string;
  /** Kaggle `test.csv` (`ImageId,Image`; `.csv`, `.csv.gz` or `test.zip`). */
  readonly test: string;
  /** Kaggle `IdLookupTable.csv`. */
  readonly lookup: string;
  /** Output file, default `submission.csv` (in the working directory). */
  readonly out?: string;
  /** tfjs backend; default the run's. */
  readonly backend?: string;
  /** Test images converted and predicted at a time, default 512. */
  readonly chunk?: number;
  readonly logger?: Logger;
}

/** What {@link writeSubmission} wrote. */
export interface SubmitResult {
  /** Absolute path of the submission. */
  readonly file: string;
  /** Data rows written (= lookup rows). */
  readonly rows: number;
  /** Distinct test images the lookup asks about (all of them were predicted). */
  readonly images: number;
  /** Values predicted outside [0, 96] px and clipped to it. */
  readonly clipped: number;
  readonly kind: 'model' | 'specialists';
  readonly seconds: number;
}

/**
 * Write a Kaggle submission: predict the test images with a run or a specialists ensemble and write
 * `RowId,Location` for exactly the rows of `IdLookupTable.csv`, in its order — `Location` in pixels
 * (`48 × y + 48` of the normalized prediction), clipped to [0, 96], at most 4 decimals. Header
 * `RowId,Location`, LF line endings, trailing newline (as Kaggle's `SampleSubmission.csv`). Everything is
 * checked before predicting; the file is written atomically.
 *
 * @throws {DataNotFoundError} for a missing file or folder.
 * @throws {DataFormatError} naming file, line and column: a bad lookup table (see {@link readLookupTable}),
 *   a test file without `ImageId` or with a repeated one, a lookup `ImageId` that is not in the test file,
 *   a `FeatureName` the model does not predict (with the number of such rows), a non-finite prediction.
 * @throws {ConfigError} / {ModelIOError} for a bad run or specialists folder.
 *
 * @example
 * ```ts
 * await writeSubmission({ model: 'runs/specialists', test: 'test.csv', lookup: 'IdLookupTable.csv', out: 'submission.csv' });
 * ```
 */
export async function writeSubmission(options: SubmitOptions): Promise<SubmitResult> {
  const t0 = performance.now();
  const logger = options.logger ?? consoleLogger;
  const file = resolve(options.out ?? 'submission.csv');
  const chunk = options.chunk ?? 512;
  const lookup = await readLookupTable(options.lookup);
  const test = await readKaggleCsv(options.test, { columns: [] });
  if (!test.imageIds || !test.images) {
    throw new DataFormatError({ file: options.test, line: 1, column: IMAGE_ID_COLUMN }, `no ${IMAGE_ID_COLUMN} column; expected Kaggle's test.csv layout ImageId,Image`);
  }
  const testRow = new Map<number, number>();
  test.imageIds.forEach((id, r) => {
    if (testRow.has(id)) throw new DataFormatError({ file: options.test, line: r + 2, column: IMAGE_ID_COLUMN }, `ImageId ${id} repeats an earlier row`);
    testRow.set(id, r);
  });

  const predictor = await loadPredictor(options.model, { ...(options.backend ? { backend: options.backend } : {}), logger });
  try {
    const predicted = new Set(predictor.columns);
    const missing = lookup.filter((r) => !testRow.has(r.imageId));
    if (missing.length > 0) {
      const ids = [...testRow.keys()];
      throw new DataFormatError(
        { file: options.lookup, line: missing[0].line, column: IMAGE_ID_COLUMN },
        `ImageId ${missing[0].imageId} is not in ${options.test} (${ids.length} images, ImageIds ${Math.min(...ids)}…${Math.max(...ids)})` +
          (missing.length > 1 ? `; ${missing.length} lookup rows ask for absent images` : ''),
      );
    }
    const unpredicted = lookup.filter((r) => !predicted.has(r.featureName));
    if (unpredicted.length > 0) {
      const names = [...new Set(unpredicted.map((r) => r.featureName))];
      throw new DataFormatError(
        { file: options.lookup, line: unpredicted[0].line, column: 'FeatureName' },
        `${predictor.dir} does not predict '${unpredicted[0].featureName}' (${unpredicted.length} lookup rows ask for ${names.join(', ')}); ` +
          `it predicts ${predictor.columns.length} columns: ${predictor.columns.join(', ')}`,
      );
    }

    // Predict the requested images, a chunk at a time (uint8 → [0, 1] float32 only for the chunk).
    const needed = [...new Set(lookup.map((r) => testRow.get(r.imageId)!))].sort((a, b) => a - b);
    const slot = new Map(needed.map((r, i) => [r, i]));
    const k = KAGGLE_COLUMNS.length;
    const predictions = new Float32Array(needed.length * k);
    for (let start = 0; start < needed.length; start += chunk) {
      const rows = needed.slice(start, start + chunk);
      const images = new Float32Array(rows.length * IMAGE_PIXELS);
      rows.forEach((r, i) => {
        for (let p = 0; p < IMAGE_PIXELS; p++) images[i * IMAGE_PIXELS + p] = test.images![r * IMAGE_PIXELS + p] / 255;
      });
      predictions.set(predictor.predict(images, rows.length), start * k);
    }

    let clipped = 0;
    const lines = [SUBMISSION_HEADER];
    for (const r of lookup) {
      const column = KAGGLE_COLUMNS.indexOf(r.featureName);
      const px = toPixels(predictions[slot.get(testRow.get(r.imageId)!)! * k + column]);
      if (!Number.isFinite(px)) {
        throw new DataFormatError(
          { file: options.lookup, line: r.line, column: 'FeatureName' },
          `${predictor.dir} predicted ${px} for ${r.featureName} of ImageId ${r.imageId}; expected a finite number`,
        );
      }
      const location = Math.min(IMAGE_SIZE, Math.max(0, px));
      if (location !== px) clipped++;
      lines.push(`${r.rowId},${formatKeypoint(location, 4)}`);
    }
    await writeFileAtomic(file, lines.join('\n') + '\n');
    return {
      file,
      rows: lookup.length,
      images: needed.length,
      clipped,
      kind: predictor.kind,
      seconds: Math.round((performance.now() - t0) / 100) / 10,
    };
  } finally {
    predictor.dispose();
  }
}
