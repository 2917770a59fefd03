import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedDataPath } from '@keypoints/test-support';

/** Repository root (`/work/main` in the dev checkout). Test helper only. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The project's real data folder `shared/data`, as `@keypoints/test-support` resolves it
 * (`$KEYPOINTS_SHARED_DIR/data`, else `<repo>/../shared/data`, else `<repo>/shared/data`). Not checked:
 * a test that reads it calls `sharedData({ files })` to skip (or, in CI, fail) when absent. Test helper only.
 */
export const SHARED_DATA = sharedDataPath();

/** `shared/data/youtube_faces_p1`. */
export const P1_DIR = path.join(SHARED_DATA, 'youtube_faces_p1');
/** `shared/data/kaggle/training_keypoints_only.csv`. */
export const KAGGLE_KEYPOINTS_CSV = path.join(SHARED_DATA, 'kaggle', 'training_keypoints_only.csv');
/** The embedded sample of this repository: `packages/sample-data/data` (`@keypoints/sample-data`). */
export const SAMPLE_DIR = path.join(REPO_ROOT, 'packages', 'sample-data', 'data');
