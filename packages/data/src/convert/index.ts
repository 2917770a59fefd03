/**
 * Landmark-folder → Kaggle-format conversion (68-point iBUG layout, e.g. YouTube-Faces / Udacity P1).
 * Re-export from the package index with `export * from './convert/index.js'`.
 */
export { IBUG68_POINT_COUNT, IBUG68_TO_KAGGLE, ibug68ToKaggle } from './ibug68.js';
export {
  DEFAULT_CROP_RULE,
  landmarkBox,
  cropBoxFor,
  toCropPixels,
  landmarksToKaggleKeypoints,
  kaggleKeypointMeans,
  calibrateCropRule,
} from './crop-rule.js';
export type { CropRule, CropBox, LandmarkBox, KaggleKeypointMeans, CropCalibration } from './crop-rule.js';
export { LANDMARK_CSV_FIELDS, identityFromFileName, readLandmarkCsv } from './landmark-csv.js';
export type { LandmarkRecord } from './landmark-csv.js';
export {
  DEFAULT_CONVERT_CONCURRENCY,
  convertLandmarkImage,
  cropFaceImage,
  convertLandmarkRecords,
  convertLandmarkFolder,
} from './landmarks.converter.js';
export type {
  ConvertLandmarksOptions,
  ConvertedFace,
  ConvertedLandmarks,
  ConvertLandmarkFolderOptions,
  ConvertLandmarkFolderResult,
} from './landmarks.converter.js';
export {
  KAGGLE_TEST_IMAGES,
  readYoutubeFacesFrames,
  selectTestFrames,
  makeKaggleTestSet,
} from './kaggle-test-set.js';
export type {
  YoutubeFacesFrame,
  YoutubeFacesFrames,
  MakeKaggleTestSetOptions,
  MakeKaggleTestSetResult,
} from './kaggle-test-set.js';
