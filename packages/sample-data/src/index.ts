import { fileURLToPath } from 'node:url';

/**
 * `@keypoints/sample-data`: the embedded real sample, the default data of every `@keypoints` package
 * wherever they are installed. 1048 training faces of 262 identities and 200 test faces of 50 other
 * identities, converted from the YouTube-Faces frames of Udacity's P1 project into the Kaggle
 * "Facial Keypoints Detection" format (96×96 grayscale, 15 keypoints = 30 columns in pixels,
 * `Image` column, plus an `Identity` column). Provenance, checksums and the command that regenerates
 * the files: `data/README.md` of this package.
 *
 * Read them with `readKaggleCsv` from `@keypoints/data` (`SAMPLE_TEST_KEYPOINTS` with `requireImage: false`).
 */
function dataFile(name: string): string {
  return fileURLToPath(new URL(`../data/${name}`, import.meta.url));
}

/** The folder holding the sample files (absolute path). */
export const SAMPLE_DATA_DIR: string = fileURLToPath(new URL('../data/', import.meta.url));
/** Kaggle `training.csv` layout, gzipped: 30 keypoint columns (px), `Image`, `Identity`; 1048 rows, no missing values. */
export const SAMPLE_TRAINING_CSV: string = dataFile('training.csv.gz');
/** Kaggle `test.csv` layout, gzipped: `ImageId` (1…200), `Image`, `Identity`; 200 rows. */
export const SAMPLE_TEST_CSV: string = dataFile('test.csv.gz');
/** Keypoints (px) of the test faces, same `ImageId`s and row order as {@link SAMPLE_TEST_CSV}; no `Image` column. */
export const SAMPLE_TEST_KEYPOINTS: string = dataFile('test_keypoints.csv.gz');
