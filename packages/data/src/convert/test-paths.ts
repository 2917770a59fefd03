import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (`/work/main` in the dev checkout). Test helper only. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * The project's real data folder `shared/data`: beside the repository (`<repo>/../shared/data`) or inside
 * it (`<repo>/shared/data`). Test helper only.
 */
export const SHARED_DATA = [path.join(REPO_ROOT, '..', 'shared', 'data'), path.join(REPO_ROOT, 'shared', 'data')].find(
  (p) => existsSync(p),
) ?? path.join(REPO_ROOT, '..', 'shared', 'data');

/** `shared/data/youtube_faces_p1`. */
export const P1_DIR = path.join(SHARED_DATA, 'youtube_faces_p1');
/** `shared/data/kaggle/training_keypoints_only.csv`. */
export const KAGGLE_KEYPOINTS_CSV = path.join(SHARED_DATA, 'kaggle', 'training_keypoints_only.csv');
/** `data/sample` of this repository. */
export const SAMPLE_DIR = path.join(REPO_ROOT, 'data', 'sample');
