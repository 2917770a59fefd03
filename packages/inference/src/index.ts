/**
 * `@keypoints/inference`: use trained models — a predictor for a run or a specialists ensemble,
 * evaluation (RMSE in pixels, per keypoint), Kaggle submissions, run plots and summaries.
 */
export { loadPredictor, DEFAULT_PREDICT_BATCH } from './predictor.js';
export type { KeypointPredictor, PredictorMember, LoadPredictorOptions } from './predictor.js';
export { evaluateRun } from './evaluate.js';
export type { EvaluationResult } from './evaluate.js';
export { writeSubmission, readLookupTable, SUBMISSION_HEADER } from './submit.js';
export type { SubmitOptions, SubmitResult, LookupRow } from './submit.js';
export { plotRuns, writeSummary, readSpecialistCurves } from './plot.js';
export type { PlotResult } from './plot.js';
export { readPhoto, listPhotos, PHOTO_EXTENSIONS } from './photo.js';
export type { Photo } from './photo.js';
export { cropForDetectorBox, cropForGivenBox, cropToPhotoPixels, photoToCropNormalized } from './face-crop.js';
export { toGrey, rgbaToRgb, cropGreyFace } from './crop-pixels.js';
export type { BoxTuple } from './face-crop.js';
export {
  predictPhotos,
  predictCrops,
  photoPredictionsToCsv,
  readBoxesFile,
  parseBox,
  writePhotoPredictionsJson,
  PHOTO_CSV_HEADER,
} from './predict-photos.js';
export type { PhotoPrediction, FacePrediction, PredictPhotosOptions, PredictPhotosResult, GivenBoxes } from './predict-photos.js';
export { drawPhotoPrediction } from './draw.js';
export type { DrawOptions } from './draw.js';
export { calibrateDetectorCrop, detectionRate } from './calibrate-detector.js';
export type { DetectorCalibration, CalibrationFace, DetectionRate } from './calibrate-detector.js';
