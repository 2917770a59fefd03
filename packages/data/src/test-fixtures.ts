/**
 * Test-only helpers (not exported from the package): small Kaggle-format fixtures built from the real
 * keypoint rows of `shared/data/kaggle/training_keypoints_only.csv`, with deterministic pixels.
 */
import { readFileSync } from 'node:fs';
import { FULL_KEYPOINT_SET, IMAGE_PIXELS, KAGGLE_COLUMNS, toIntensity, toNormalized } from '@keypoints/core';
import { type SharedData, sharedData, sharedDataPath } from '@keypoints/test-support';
import type { Dataset } from './dataset.js';

/** `shared/data/kaggle/training_keypoints_only.csv` (7049 real keypoint rows, no images); see `@keypoints/test-support`. */
export const KEYPOINTS_ONLY_CSV = sharedDataPath('kaggle', 'training_keypoints_only.csv');

/**
 * Whether {@link KEYPOINTS_ONLY_CSV} (and so {@link realKeypointLines} / {@link trainingCsvText}) is
 * there: call it once at the top of a test file, then `describe.skipIf(!real.available)`. Prints the
 * skip reason when absent; throws under `KEYPOINTS_REQUIRE_SHARED=1`.
 */
export function realKeypointsData(): SharedData {
  return sharedData({ files: ['kaggle/training_keypoints_only.csv'] });
}

let cachedRows: string[] | undefined;

/** The data lines of the real keypoint-only table (30 comma-separated fields each, empty = missing). */
export function realKeypointLines(): readonly string[] {
  cachedRows ??= readFileSync(KEYPOINTS_ONLY_CSV, 'utf8').trimEnd().split('\n').slice(1);
  return cachedRows;
}

/** A deterministic, image-like pixel value 0..255 for pixel `i` of fixture row `row`. */
export function fixturePixel(row: number, i: number): number {
  const x = i % 96;
  const y = Math.floor(i / 96);
  return (x * 2 + y + row * 37 + ((x * y) >> 6)) & 255;
}

/** The `Image` field of fixture row `row`: 9216 space-separated integers. */
export function fixtureImageField(row: number): string {
  const px = new Array<number>(IMAGE_PIXELS);
  for (let i = 0; i < IMAGE_PIXELS; i++) px[i] = fixturePixel(row, i);
  return px.join(' ');
}

/** Options of {@link trainingCsvText}. */
export interface TrainingCsvFixture {
  /** Indices into the real keypoint rows, one per fixture row. */
  readonly rows: readonly number[];
  /** Add an `Identity` column with these values (one per row). */
  readonly identities?: readonly string[];
  /** Line ending; default `\n`. */
  readonly eol?: string;
}

/** A Kaggle `training.csv` text: 30 real keypoint columns + `Image` (+ `Identity`), trailing newline. */
export function trainingCsvText(fixture: TrainingCsvFixture): string {
  const { rows, identities, eol = '\n' } = fixture;
  const lines = realKeypointLines();
  const header = [...KAGGLE_COLUMNS, 'Image', ...(identities ? ['Identity'] : [])].join(',');
  const body = rows.map(
    (r, i) => `${lines[r]},${fixtureImageField(i)}${identities ? `,${identities[i]}` : ''}`,
  );
  return [header, ...body].join(eol) + eol;
}

/** A dataset of `count` rows built directly (no file): targets from real rows, masks 1, `Identity` optional. */
export function syntheticDataset(count: number, identities?: readonly string[]): Dataset {
  const k = FULL_KEYPOINT_SET.columns.length;
  const images = new Float32Array(count * IMAGE_PIXELS);
  const targets = new Float32Array(count * k);
  const mask = new Float32Array(count * k);
  for (let r = 0; r < count; r++) {
    images[r * IMAGE_PIXELS] = toIntensity(r % 256); // first pixel identifies the row for small counts
    images[r * IMAGE_PIXELS + 1] = r; // exact row id
    for (let j = 0; j < k; j++) {
      targets[r * k + j] = toNormalized((r * 7 + j) % 96);
      mask[r * k + j] = 1;
    }
  }
  return {
    count,
    keypointSet: FULL_KEYPOINT_SET,
    images,
    targets,
    mask,
    ...(identities ? { identities } : {}),
    sourceRows: Int32Array.from({ length: count }, (_, i) => i),
  };
}

/** Row id stored by {@link syntheticDataset} in pixel 1 of each image. */
export function rowIdOf(images: Float32Array, i: number): number {
  return images[i * IMAGE_PIXELS + 1];
}
